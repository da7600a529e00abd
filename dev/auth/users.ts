// The users store: auth.users in the stack's database, as in Supabase, so the production
// migrations' foreign keys and Row Level Security apply to these users. Also the user as GoTrue
// sends it (field names, which are left out when empty, and one e-mail identity), and the made-up
// user a sign-up for a confirmed address answers with, so sign-up does not tell who is registered.

import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { unprocessable } from './errors.ts';

export interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  phone: string | null;
  encrypted_password: string | null;
  email_confirmed_at: Date | null;
  phone_confirmed_at: Date | null;
  confirmed_at: Date | null;
  invited_at: Date | null;
  confirmation_token: string | null;
  confirmation_sent_at: Date | null;
  recovery_token: string | null;
  recovery_sent_at: Date | null;
  email_change: string | null;
  email_change_token_new: string | null;
  email_change_token_current: string | null;
  email_change_sent_at: Date | null;
  email_change_confirm_status: number | null;
  reauthentication_token: string | null;
  reauthentication_sent_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  banned_until: Date | null;
  deleted_at: Date | null;
  is_anonymous: boolean;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, aud, role, email, phone, encrypted_password, email_confirmed_at, phone_confirmed_at, confirmed_at,
  invited_at, confirmation_token, confirmation_sent_at, recovery_token, recovery_sent_at, email_change,
  email_change_token_new, email_change_token_current, email_change_sent_at, email_change_confirm_status,
  reauthentication_token, reauthentication_sent_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data,
  banned_until, deleted_at, is_anonymous, created_at, updated_at`;

/** Columns a handler may set in one update; anything else is a programming error. */
export type UserChanges = Partial<
  Pick<
    UserRow,
    | 'email'
    | 'encrypted_password'
    | 'email_confirmed_at'
    | 'invited_at'
    | 'confirmation_token'
    | 'confirmation_sent_at'
    | 'recovery_token'
    | 'recovery_sent_at'
    | 'email_change'
    | 'email_change_token_new'
    | 'email_change_token_current'
    | 'email_change_sent_at'
    | 'email_change_confirm_status'
    | 'reauthentication_token'
    | 'reauthentication_sent_at'
    | 'last_sign_in_at'
    | 'raw_app_meta_data'
    | 'raw_user_meta_data'
    | 'banned_until'
  >
>;

export const DUPLICATE_EMAIL = 'A user with this email address has already been registered';

/** Anything that runs a query: the pool, or one client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export const isConfirmed = (u: UserRow) => u.email_confirmed_at !== null || u.phone_confirmed_at !== null;
export const isBanned = (u: UserRow, now = new Date()) => u.banned_until !== null && u.banned_until > now;

export class UserStore {
  constructor(private readonly db: Queryable) {}

  async byId(id: string, db: Queryable = this.db): Promise<UserRow | null> {
    const { rows } = await db.query<UserRow>(`select ${COLUMNS} from auth.users where id = $1`, [id]);
    return rows[0] ?? null;
  }

  async byEmail(email: string, db: Queryable = this.db): Promise<UserRow | null> {
    const { rows } = await db.query<UserRow>(`select ${COLUMNS} from auth.users where email = $1 and is_sso_user = false`, [email]);
    return rows[0] ?? null;
  }

  /** The user whose pending token (one of these columns) is exactly this hash. */
  async byToken(column: 'confirmation_token' | 'recovery_token' | 'email_change_token', tokenHash: string, db: Queryable = this.db): Promise<UserRow | null> {
    const where = column === 'email_change_token' ? 'email_change_token_current = $1 or email_change_token_new = $1' : `${column} = $1`;
    const { rows } = await db.query<UserRow>(`select ${COLUMNS} from auth.users where ${where} limit 1`, [tokenHash]);
    return rows[0] ?? null;
  }

  async create(
    fields: { email: string; encryptedPassword: string | null; userMetadata: Record<string, unknown>; appMetadata?: Record<string, unknown>; confirmed?: boolean; role?: string; id?: string },
    db: Queryable = this.db,
  ): Promise<UserRow> {
    const now = new Date();
    try {
      const { rows } = await db.query<UserRow>(
        `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
           raw_app_meta_data, raw_user_meta_data, created_at, updated_at, confirmation_token, recovery_token,
           email_change_token_new, email_change, email_change_token_current, reauthentication_token)
         values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', $2, $3, $4, $5, $6, $7, $8, $8, '', '', '', '', '', '')
         returning ${COLUMNS}`,
        [
          fields.id ?? randomUUID(),
          fields.role ?? 'authenticated',
          fields.email,
          fields.encryptedPassword,
          fields.confirmed ? now : null,
          fields.appMetadata ?? { provider: 'email', providers: ['email'] },
          fields.userMetadata,
          now,
        ],
      );
      return rows[0]!;
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw unprocessable('email_exists', DUPLICATE_EMAIL);
      throw error;
    }
  }

  async update(id: string, changes: UserChanges, db: Queryable = this.db): Promise<UserRow> {
    // Column names come from UserChanges' keys (the handlers' code), never from a request.
    const entries = Object.entries(changes);
    const sets = entries.map(([column], i) => `${column} = $${i + 2}`);
    try {
      const { rows } = await db.query<UserRow>(`update auth.users set ${[...sets, 'updated_at = now()'].join(', ')} where id = $1 returning ${COLUMNS}`, [
        id,
        ...entries.map(([, v]) => v),
      ]);
      if (!rows[0]) throw new Error(`user ${id} vanished during an update`);
      return rows[0];
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw unprocessable('email_exists', DUPLICATE_EMAIL);
      throw error;
    }
  }

  /** Confirms the e-mail, as GoTrue's Confirm: the pending confirmation goes, email_verified is recorded. */
  async confirm(user: UserRow, db: Queryable = this.db): Promise<UserRow> {
    return this.update(user.id, { email_confirmed_at: user.email_confirmed_at ?? new Date(), confirmation_token: '', raw_user_meta_data: { ...(user.raw_user_meta_data ?? {}), email_verified: true } }, db);
  }

  async delete(id: string, db: Queryable = this.db): Promise<boolean> {
    return ((await db.query('delete from auth.users where id = $1', [id])).rowCount ?? 0) > 0;
  }

  /** One page of users, newest first, and how many there are. */
  async page(page: number, perPage: number): Promise<{ users: UserRow[]; total: number }> {
    const [{ rows }, count] = [
      await this.db.query<UserRow>(`select ${COLUMNS} from auth.users order by created_at desc, id limit $1 offset $2`, [perPage, (page - 1) * perPage]),
      await this.db.query<{ n: string }>('select count(*) as n from auth.users'),
    ];
    return { users: rows, total: Number(count.rows[0]!.n) };
  }

  async touchSignIn(id: string, db: Queryable = this.db): Promise<void> {
    await db.query('update auth.users set last_sign_in_at = now() where id = $1', [id]);
  }
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : undefined);

/** A stable id for the user's one e-mail identity (auth.identities is not part of the local bootstrap). */
function identityIdOf(userId: string): string {
  const h = createHash('sha256').update(`identity:email:${userId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The user as GoTrue's JSON has it: optional timestamps left out when unset, fields in its order. */
export function userJson(u: UserRow): Record<string, unknown> {
  const identities = u.email
    ? [
        {
          identity_id: identityIdOf(u.id),
          id: u.id,
          user_id: u.id,
          identity_data: { email: u.email, email_verified: u.email_confirmed_at !== null, phone_verified: false, sub: u.id },
          provider: 'email',
          last_sign_in_at: iso(u.last_sign_in_at),
          created_at: u.created_at.toISOString(),
          updated_at: u.updated_at.toISOString(),
          email: u.email,
        },
      ]
    : [];
  return withoutUndefined({
    id: u.id,
    aud: u.aud ?? '',
    role: u.role ?? '',
    email: u.email ?? '',
    email_confirmed_at: iso(u.email_confirmed_at),
    invited_at: iso(u.invited_at),
    phone: u.phone ?? '',
    phone_confirmed_at: iso(u.phone_confirmed_at),
    confirmation_sent_at: iso(u.confirmation_sent_at),
    confirmed_at: iso(u.confirmed_at),
    recovery_sent_at: iso(u.recovery_sent_at),
    new_email: u.email_change || undefined,
    email_change_sent_at: iso(u.email_change_sent_at),
    reauthentication_sent_at: iso(u.reauthentication_sent_at),
    last_sign_in_at: iso(u.last_sign_in_at),
    app_metadata: u.raw_app_meta_data ?? {},
    user_metadata: u.raw_user_meta_data ?? {},
    identities,
    created_at: u.created_at.toISOString(),
    updated_at: u.updated_at.toISOString(),
    banned_until: iso(u.banned_until),
    deleted_at: iso(u.deleted_at),
    is_anonymous: u.is_anonymous,
  });
}

/**
 * What sign-up answers for an address that is already confirmed: a user that does not exist
 * (new id, no identities, now for every time), as GoTrue's sanitizeUser makes it. No mail is sent.
 */
export function madeUpUser(email: string, userMetadata: Record<string, unknown>): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    aud: 'authenticated',
    role: '',
    email,
    phone: '',
    confirmation_sent_at: now,
    app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: userMetadata,
    identities: [],
    created_at: now,
    updated_at: now,
    is_anonymous: false,
  };
}

function withoutUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
