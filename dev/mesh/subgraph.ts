// A local mesh service: a federation subgraph behind the same invoker check Cloud Run applies,
// trusting x-internal-id and x-supabase-id exactly as the real services do (whoever got past
// the check is the gateway, and the gateway alone sets them).

import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
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
