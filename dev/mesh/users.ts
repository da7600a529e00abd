// The users_service stand-in: the gateway's lookup (userBySupabaseId), `me`, and
// redeemVoucher, which registers the caller on first use and redeems through the production
// Supabase function as that user, so Row Level Security decides, as it does in production.

import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import pg from 'pg';
import { startDatabaseSubgraph, UUID, type MeshContext, type MeshServiceOptions, type RunningSubgraph } from './subgraph.ts';

export const USERS_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type User @key(fields: "id") {
    id: ID!
    email: String
  }

  type Redemption {
    internalId: ID!
    voucherCode: String!
    redeemedAt: String!
  }

  type Query {
    "The caller, by the x-internal-id the gateway set; null for a caller not registered yet."
    me: User
    "The gateway's lookup: which internal id belongs to a Supabase user id."
    userBySupabaseId(supabaseId: String!): User
  }

  type Mutation {
    "Redeem an invitation voucher; registers the caller on first use."
    redeemVoucher(code: String!): Redemption!
  }
`;

/** The stand-in's own tables (not Supabase migrations: this is users_service's database). */
export const USERS_SCHEMA_SQL = `
  create schema if not exists users_service;
  create table if not exists users_service.users (
    internal_id uuid primary key,
    -- Removed with the Supabase user, so a check's throwaway user leaves nothing behind.
    supabase_id uuid not null unique references auth.users (id) on delete cascade,
    email text not null,
    created_at timestamptz not null default now()
  );
`;

// The production function's errors, as the GraphQL API reports them.
const VOUCHER_ERRORS: Record<string, string> = {
  VR401: 'UNAUTHENTICATED',
  VR403: 'VOUCHER_FOR_ANOTHER_EMAIL',
  VR404: 'VOUCHER_NOT_FOUND',
  VR409: 'VOUCHER_ALREADY_REDEEMED',
  VR410: 'VOUCHER_EXPIRED',
};

export function startUsersService(options: MeshServiceOptions): Promise<RunningSubgraph> {
  return startDatabaseSubgraph(options, { name: 'users_service', typeDefs: USERS_SDL, schemaSql: USERS_SCHEMA_SQL, resolvers: usersResolvers });
}

function usersResolvers(pool: pg.Pool) {
  const byInternalId = async (internalId: string | undefined) => {
    if (!internalId || !UUID.test(internalId)) return null;
    const { rows } = await pool.query('select internal_id as id, email from users_service.users where internal_id = $1', [internalId]);
    return rows[0] ?? null;
  };
  return {
    Query: {
      me: (_: unknown, __: unknown, ctx: MeshContext) => byInternalId(ctx.internalId),
      async userBySupabaseId(_: unknown, args: { supabaseId: string }) {
        if (!UUID.test(args.supabaseId)) return null;
        const { rows } = await pool.query('select internal_id as id, email from users_service.users where supabase_id = $1', [args.supabaseId]);
        return rows[0] ?? null;
      },
    },
    Mutation: {
      async redeemVoucher(_: unknown, args: { code: string }, ctx: MeshContext) {
        if (!ctx.supabaseId || !UUID.test(ctx.supabaseId)) throw new GraphQLError('sign in to redeem a voucher', { extensions: { code: 'UNAUTHENTICATED' } });
        const client = await pool.connect();
        try {
          await client.query('begin');
          const user = await client.query<{ email: string }>('select email from auth.users where id = $1', [ctx.supabaseId]);
          const email = user.rows[0]?.email;
          if (!email) throw new GraphQLError('unknown user', { extensions: { code: 'UNAUTHENTICATED' } });
          const existing = await client.query<{ internal_id: string }>('select internal_id from users_service.users where supabase_id = $1', [ctx.supabaseId]);
          const internalId = existing.rows[0]?.internal_id ?? randomUUID();
          if (!existing.rows[0]) await client.query('insert into users_service.users (internal_id, supabase_id, email) values ($1, $2, $3)', [internalId, ctx.supabaseId, email]);
          // From here on, the database sees the signed-in user, as Supabase's API would.
          await client.query('set local role authenticated');
          await client.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: ctx.supabaseId, email, role: 'authenticated' })]);
          const redeemed = await client.query<{ voucher_code: string; redeemed_at: Date }>('select voucher_code, redeemed_at from private.redeem_voucher($1)', [args.code]);
          await client.query('commit');
          return { internalId, voucherCode: redeemed.rows[0]!.voucher_code, redeemedAt: redeemed.rows[0]!.redeemed_at.toISOString() };
        } catch (error) {
          await client.query('rollback').catch(() => {});
          const code = (error as { code?: string }).code;
          if (code && VOUCHER_ERRORS[code]) throw new GraphQLError((error as Error).message, { extensions: { code: VOUCHER_ERRORS[code] } });
          throw error;
        } finally {
          client.release();
        }
      },
    },
    User: {
      __resolveReference: (ref: { id: string }) => byInternalId(ref.id),
    },
  };
}
