// A workout service stand-in (the movements service's role in the voucher check): log a
// workout and list your own, keyed by the x-internal-id the gateway set, nothing else.

import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import pg from 'pg';
import { startDatabaseSubgraph, UUID, type MeshContext, type MeshServiceOptions, type RunningSubgraph } from './subgraph.ts';

export const WORKOUTS_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type Workout {
    id: ID!
    name: String!
    durationMinutes: Int!
    loggedAt: String!
  }

  input WorkoutInput {
    name: String!
    durationMinutes: Int!
  }

  type Query {
    "The caller's workouts, newest first."
    myWorkouts: [Workout!]!
  }

  type Mutation {
    logWorkout(input: WorkoutInput!): Workout!
  }
`;

export const WORKOUTS_SCHEMA_SQL = `
  create schema if not exists workouts_service;
  create table if not exists workouts_service.workouts (
    id uuid primary key,
    -- Locally the users table is in the same database: a deleted user takes their workouts along.
    internal_id uuid not null references users_service.users (internal_id) on delete cascade,
    name text not null check (char_length(name) between 1 and 200),
    duration_minutes integer not null check (duration_minutes between 1 and 1440),
    logged_at timestamptz not null default now()
  );
  create index if not exists workouts_internal_id_idx on workouts_service.workouts (internal_id);
`;

function caller(ctx: MeshContext): string {
  if (!ctx.internalId || !UUID.test(ctx.internalId)) throw new GraphQLError('no internal id: redeem a voucher first', { extensions: { code: 'UNAUTHENTICATED' } });
  return ctx.internalId;
}

const asWorkout = (r: { id: string; name: string; duration_minutes: number; logged_at: Date }) => ({ id: r.id, name: r.name, durationMinutes: r.duration_minutes, loggedAt: r.logged_at.toISOString() });

export function startWorkoutsService(options: MeshServiceOptions): Promise<RunningSubgraph> {
  return startDatabaseSubgraph(options, { name: 'workouts_service', typeDefs: WORKOUTS_SDL, schemaSql: WORKOUTS_SCHEMA_SQL, resolvers: workoutsResolvers });
}

function workoutsResolvers(pool: pg.Pool) {
  return {
    Query: {
      async myWorkouts(_: unknown, __: unknown, ctx: MeshContext) {
        const { rows } = await pool.query('select * from workouts_service.workouts where internal_id = $1 order by logged_at desc, id', [caller(ctx)]);
        return rows.map(asWorkout);
      },
    },
    Mutation: {
      async logWorkout(_: unknown, args: { input: { name: string; durationMinutes: number } }, ctx: MeshContext) {
        const { rows } = await pool.query('insert into workouts_service.workouts (id, internal_id, name, duration_minutes) values ($1, $2, $3, $4) returning *', [
          randomUUID(),
          caller(ctx),
          args.input.name,
          args.input.durationMinutes,
        ]);
        return asWorkout(rows[0]);
      },
    },
  };
}
