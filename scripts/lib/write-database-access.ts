// Rewrites the committed least-privilege script after a catalog change:
// node --import tsx scripts/lib/write-database-access.ts (a test fails until it is current).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACCESS_SQL_FILE, renderAccessSql } from './database-access.ts';
import { repoRoot } from './paths.ts';

writeFileSync(join(repoRoot, ACCESS_SQL_FILE), renderAccessSql());
console.log(`wrote ${ACCESS_SQL_FILE}`);
