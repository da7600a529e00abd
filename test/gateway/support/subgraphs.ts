// Real subgraphs (graphql-yoga + @apollo/subgraph) that record every request they receive, with
// its headers, so tests assert on what actually reached the mesh. The users subgraph is also
// users_service for the gateway's id lookups and keeps a registry of Supabase id -> internal id.

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { composeServices, compositionHasErrors } from '@theguild/federation-composition';

export interface ReceivedRequest {
  subgraph: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: { query?: string; operationName?: string; variables?: Record<string, unknown>; extensions?: unknown };
}

const USERS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query {
    me: Me!
    userBySupabaseId(supabaseId: String!): User
    appVersion: String!
    slow(ms: Int!): String!
    greeting(tone: Tone): String!
  }
  enum Tone { FRIENDLY FORMAL }
  type Mutation { register: User }
  type Me { internalId: String supabaseId: String }
  type User @key(fields: "id") { id: ID! }
`;

const WORKOUTS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { myWorkouts: [Workout!]! }
  type Workout { id: ID! owner: String }
  type User @key(fields: "id") { id: ID! workoutCount: Int! }
`;

type Headers = IncomingHttpHeaders;
const header = (headers: Headers, name: string): string | null => {
  const v = headers[name];
  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
};

export type LookupFault = { kind: 'status'; status: number } | { kind: 'delay'; ms: number } | { kind: 'graphql-error' } | undefined;

export class TestMesh {
  readonly received: ReceivedRequest[] = [];
  /** Supabase id -> internal id, as users_service stores it. */
  readonly registry = new Map<string, string>();
  lookupFault: LookupFault;
  /** When set, `me` answers only once this many calls are waiting (or after holdTimeoutMs). */
  holdMeUntil: number | undefined;
  holdTimeoutMs = 3_000;
  private waitingMe: (() => void)[] = [];
  private servers: Server[] = [];
  usersUrl = '';
  workoutsUrl = '';
  supergraphSdl = '';

  static async start(): Promise<TestMesh> {
    const mesh = new TestMesh();
    mesh.usersUrl = await mesh.serve('users', USERS_SDL, mesh.usersResolvers());
    mesh.workoutsUrl = await mesh.serve('workouts', WORKOUTS_SDL, mesh.workoutsResolvers());
    const composed = composeServices([
      { name: 'users', typeDefs: parse(USERS_SDL), url: mesh.usersUrl },
      { name: 'workouts', typeDefs: parse(WORKOUTS_SDL), url: mesh.workoutsUrl },
    ]);
    if (compositionHasErrors(composed)) throw new Error(composed.errors.map((e) => e.message).join('\n'));
    mesh.supergraphSdl = composed.supergraphSdl;
    return mesh;
  }

  /** Requests the gateway made to look up internal ids. */
  get lookups(): ReceivedRequest[] {
    return this.received.filter((r) => r.body.query?.includes('userBySupabaseId') && r.body.operationName !== 'ClientAsksDirectly');
  }

  /** Requests the gateway routed to a subgraph on behalf of a client. */
  get routed(): ReceivedRequest[] {
    return this.received.filter((r) => !r.body.query?.includes('userBySupabaseId'));
  }

  register(supabaseId: string, internalId: string): void {
    this.registry.set(supabaseId, internalId);
  }

  async close(): Promise<void> {
    for (const s of this.servers) s.closeAllConnections();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private usersResolvers() {
    return {
      Query: {
        me: async (_: unknown, __: unknown, ctx: { req: { headers: Headers } }) => {
          if (this.holdMeUntil !== undefined) await this.waitForOthers();
          return { internalId: header(ctx.req.headers, 'x-internal-id'), supabaseId: header(ctx.req.headers, 'x-supabase-id') };
        },
        userBySupabaseId: async (_: unknown, args: { supabaseId: string }) => {
          const fault = this.lookupFault;
          if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
          if (fault?.kind === 'graphql-error') throw new Error('database unavailable');
          const id = this.registry.get(args.supabaseId);
          return id === undefined ? null : { id };
        },
        appVersion: () => '1.2.3',
        greeting: (_: unknown, args: { tone?: string }) => (args.tone === 'FORMAL' ? 'Good day' : 'Hi'),
        slow: async (_: unknown, args: { ms: number }) => {
          await new Promise((r) => setTimeout(r, args.ms));
          return `waited ${args.ms} ms`;
        },
      },
      Mutation: {
        register: (_: unknown, __: unknown, ctx: { req: { headers: Headers } }) => {
          const supabaseId = header(ctx.req.headers, 'x-supabase-id');
          if (!supabaseId) throw new Error('no x-supabase-id');
          const id = `iid-${supabaseId.slice(0, 8)}`;
          this.registry.set(supabaseId, id);
          return { id };
        },
      },
    };
  }

  private workoutsResolvers() {
    return {
      Query: {
        myWorkouts: (_: unknown, __: unknown, ctx: { req: { headers: Headers } }) => [{ id: 'w1', owner: header(ctx.req.headers, 'x-internal-id') }],
      },
      User: {
        workoutCount: (_: unknown, __: unknown, ctx: { req: { headers: Headers } }) => (header(ctx.req.headers, 'x-internal-id') ? 3 : 0),
      },
    };
  }

  private waitForOthers(): Promise<void> {
    return new Promise<void>((resolve) => {
      const release = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waitingMe = this.waitingMe.filter((r) => r !== release);
        resolve();
      }, this.holdTimeoutMs);
      this.waitingMe.push(release);
      if (this.waitingMe.length >= (this.holdMeUntil ?? 0)) {
        for (const release of this.waitingMe.splice(0)) release();
      }
    });
  }

  private async serve(name: string, sdl: string, resolvers: object): Promise<string> {
    const yoga = createYoga<{ req: { headers: Headers; rawHeaders: string[] } }>({
      schema: buildSubgraphSchema([{ typeDefs: parse(sdl), resolvers: resolvers as never }]),
      logging: false,
      maskedErrors: false,
    });
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk));
      req.on('end', () => {
        let parsed: ReceivedRequest['body'] = {};
        try {
          parsed = body ? (JSON.parse(body) as ReceivedRequest['body']) : {};
        } catch {
          parsed = {};
        }
        const isLookup = parsed.query?.includes('userBySupabaseId') ?? false;
        this.received.push({ subgraph: name, headers: { ...req.headers }, rawHeaders: [...req.rawHeaders], body: parsed });
        const fault = this.lookupFault;
        if (isLookup && fault?.kind === 'status') {
          res.writeHead(fault.status, { 'content-type': 'text/plain' }).end('unavailable');
          return;
        }
        const replay = new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body });
        void Promise.resolve(yoga.fetch(replay, { req })).then(async (response) => {
          res.writeHead(response.status, Object.fromEntries(response.headers));
          res.end(Buffer.from(await response.arrayBuffer()));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  }
}
