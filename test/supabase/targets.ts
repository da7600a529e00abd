// The two databases the Supabase suites run on: the real PostgreSQL server here (15) and the
// embedded PGlite the local stack uses (17, the major version config.toml names for production).
// Both get the bootstrap and every production migration, pushed by the real supabase CLI.

import { startEmbeddedPostgres } from '../../dev/postgres/embedded.ts';
import { prepareLocalSupabaseDatabase } from '../../dev/supabase/migrate.ts';
import { createSupabaseDatabase } from './databases.ts';

export interface MigratedDatabase {
  url: string;
  close(): Promise<void>;
}

export interface DatabaseTarget {
  name: string;
  /** Whether several sessions can hold locks at once (PGlite is a single backend). */
  concurrentSessions: boolean;
  start(label: string): Promise<MigratedDatabase>;
}

export const DATABASE_TARGETS: readonly DatabaseTarget[] = [
  {
    name: 'PostgreSQL 15',
    concurrentSessions: true,
    async start(label) {
      const db = await createSupabaseDatabase(label);
      return { url: db.url, close: db.drop };
    },
  },
  {
    name: 'PGlite 17',
    concurrentSessions: false,
    async start() {
      const embedded = await startEmbeddedPostgres();
      try {
        await prepareLocalSupabaseDatabase(embedded.url);
      } catch (error) {
        await embedded.close();
        throw error;
      }
      return { url: embedded.url, close: () => embedded.close() };
    },
  },
];
