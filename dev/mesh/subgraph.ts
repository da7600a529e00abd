// A local mesh service: a federation subgraph behind the same invoker check Cloud Run applies,
// trusting x-internal-id and x-supabase-id exactly as the real services do (whoever got past
// the check is the gateway, and the gateway alone sets them).

import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import pg from 'pg';
import { listen, type Listening } from '../http.ts';
import { createInvokerCheck, FORBIDDEN_PAGE, type InvokerCheckOptions } from './invoker-check.ts';

export interface MeshContext {
  /** The caller's internal id, as the gateway set it; undefined for a user not registered yet. */
  internalId?: string;
  /** The caller's Supabase user id, as the gateway set it. */
  supabaseId?: string;
}

export interface SubgraphOptions {
  name: string;
  typeDefs: string;
  resolvers: GraphQLResolverMap<MeshContext>;
  port?: number;
  invoker: Omit<InvokerCheckOptions, 'audience'>;
}

export interface RunningSubgraph extends Listening {
  /** GraphQL endpoint. */
  graphqlUrl: string;
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) || undefined;

export async function startSubgraph(options: SubgraphOptions): Promise<RunningSubgraph> {
  const yoga = createYoga<{ req: import('node:http').IncomingMessage }, MeshContext>({
    schema: buildSubgraphSchema([{ typeDefs: parse(options.typeDefs), resolvers: options.resolvers as GraphQLResolverMap<unknown> }]),
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
    maskedErrors: { maskError: (error) => error as Error },
    context: ({ req }) => ({ internalId: header(req.headers['x-internal-id']), supabaseId: header(req.headers['x-supabase-id']) }),
  });
  let check: ReturnType<typeof createInvokerCheck> | null = null;
  const listening = await listen((req, res) => {
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ service: options.name, status: 'ok' }));
      return;
    }
    check!(req.headers.authorization ?? null).then((verdict) => {
      if (!verdict.ok) {
        res.writeHead(verdict.status, { 'content-type': 'text/html; charset=UTF-8', 'www-authenticate': 'Bearer error="invalid_token"' });
        res.end(FORBIDDEN_PAGE);
        return;
      }
      void yoga(req, res, { req });
    });
  }, options.port ?? 0);
  // The audience is this service's own URL, known once it listens.
  check = createInvokerCheck({ ...options.invoker, audience: listening.url });
  return { ...listening, graphqlUrl: `${listening.url}/graphql` };
}

/** The ids the gateway passes on (internal and Supabase ids) are UUIDs; anything else finds nobody. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface MeshServiceOptions {
  databaseUrl: string;
  port?: number;
  invoker: SubgraphOptions['invoker'];
}

/**
 * A mesh service that keeps its data in its own schema of the database: the schema is created
 * when it starts, and its connections are closed when it stops.
 */
export async function startDatabaseSubgraph(
  options: MeshServiceOptions,
  service: { name: string; typeDefs: string; schemaSql: string; resolvers(pool: pg.Pool): GraphQLResolverMap<MeshContext> },
): Promise<RunningSubgraph> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
  await pool.query(service.schemaSql);
  const subgraph = await startSubgraph({ name: service.name, typeDefs: service.typeDefs, resolvers: service.resolvers(pool), port: options.port, invoker: options.invoker });
  return {
    ...subgraph,
    async close() {
      await subgraph.close();
      await pool.end();
    },
  };
}
