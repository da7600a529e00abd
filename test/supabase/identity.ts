// Run SQL as one of Supabase's request identities, the way Supabase's API server does it:
// inside a transaction, switch to the API role and publish the verified JWT's claims in
// request.jwt.claims, which auth.uid() and auth.jwt() read. The connection itself must be a
// superuser (or a member of the API roles).

import type pg from 'pg';

export interface SignedInUser {
  id: string;
  email: string;
}

export type Identity =
  | { kind: 'anon' }
  | { kind: 'service_role' }
  | { kind: 'authenticated'; user: SignedInUser; claims?: Record<string, unknown> };

export const anon: Identity = { kind: 'anon' };
export const serviceRole: Identity = { kind: 'service_role' };
export function signedIn(user: SignedInUser, claims?: Record<string, unknown>): Identity {
  return claims ? { kind: 'authenticated', user, claims } : { kind: 'authenticated', user };
}

/** The claims Supabase Auth puts in a user's access token (the subset policies read). */
export function claimsOf(identity: Identity): Record<string, unknown> {
  switch (identity.kind) {
    case 'anon':
      return { role: 'anon' };
    case 'service_role':
      return { role: 'service_role' };
    case 'authenticated':
      return identity.claims ?? { sub: identity.user.id, email: identity.user.email, role: 'authenticated', aud: 'authenticated', aal: 'aal1' };
  }
}

/** Within an open transaction: from here to its end, statements run as `identity`. */
export async function assumeIdentity(client: pg.ClientBase, identity: Identity): Promise<void> {
  // The role name comes from the closed set above, never from input.
  await client.query(`set local role ${identity.kind}`);
  await client.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claimsOf(identity))]);
}

/**
 * Runs `fn` as `identity` in its own transaction. Rolled back unless `commit` is set, so a
 * test's writes never leak into the next case.
 */
export async function asIdentity<T>(
  client: pg.ClientBase,
  identity: Identity,
  fn: (client: pg.ClientBase) => Promise<T>,
  options: { commit?: boolean } = {},
): Promise<T> {
  await client.query('begin');
  try {
    await assumeIdentity(client, identity);
    const result = await fn(client);
    await client.query(options.commit ? 'commit' : 'rollback');
    return result;
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/** The SQLSTATE of a failed query, or undefined when it succeeded. */
export async function sqlstateOf(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string') throw error;
    return code;
  }
}
