// An embedded PostgreSQL for the local stack when DATABASE_URL is not set: PGlite (PostgreSQL
// compiled to WebAssembly, in this process) served over the PostgreSQL wire protocol, so any
// client, including the real supabase CLI, connects to it like to a server.

import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** postgresql://postgres@127.0.0.1:<port>/postgres */
  url: string;
  close(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Keep the database in this directory across restarts; in memory when absent. */
  dataDir?: string;
  /** TCP port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
}

// PGlite is a single backend: every client connection shares one session, and the socket
// server keeps one connection's transaction together before serving the next. A handful of
// connections covers the supabase CLI and a local service or two.
const MAX_CONNECTIONS = 8;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const db = options.dataDir ? new PGlite({ dataDir: options.dataDir }) : new PGlite();
  await db.waitReady;
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: options.port ?? 0, maxConnections: MAX_CONNECTIONS });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  const port = Number(server.getServerConn().split(':').pop());
  let closed = false;
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async close() {
      if (closed) return;
      closed = true;
      await server.stop();
      await db.close();
    },
  };
}
