// Where the local stack lives and how its parts find each other: one directory (LOCAL_DIR,
// default .local/) with the stack's settings, keys, pids, logs and data; one port range
// (LOCAL_PORT_BASE, default 4000: the gateway on 4000 and its neighbours after it).

import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAuthKeys, type AuthKeys } from '../auth/keys.ts';
import { authSettingsFromToml, type AuthSettings } from '../auth/settings.ts';
import { createMetadataKeys, type MetadataKeys } from '../metadata/server.ts';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

import { COMPONENTS, PORT_OFFSETS, type Component } from './parts.ts';

export { COMPONENTS, type Component };

/** The gateway's service account, as the metadata stand-in issues tokens for it. */
export const GATEWAY_SERVICE_ACCOUNT = 'gateway@mindmirror-local.iam.gserviceaccount.com';

export interface StackSettings {
  portBase: number;
  /** DATABASE_URL when given; otherwise the embedded PostgreSQL's URL. */
  databaseUrl: string;
  embeddedDatabase: boolean;
  redisUrl: string | null;
}

export interface StackKeys {
  auth: AuthKeys;
  metadata: MetadataKeys;
}

export class Layout {
  readonly dir: string;
  constructor(env: NodeJS.ProcessEnv = process.env) {
    const given = env.LOCAL_DIR || '.local';
    this.dir = isAbsolute(given) ? given : join(repoRoot, given);
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }
  pidFile(c: Component): string {
    return this.path('pids', `${c}.pid`);
  }
  logFile(c: Component): string {
    return this.path('logs', `${c}.log`);
  }

  ensure(): void {
    for (const d of [this.dir, this.path('pids'), this.path('logs')]) mkdirSync(d, { recursive: true, mode: 0o700 });
  }

  /** Settings fixed at the first start (ports, which database), so every part agrees on them. */
  settings(env: NodeJS.ProcessEnv = process.env): StackSettings {
    const file = this.path('stack.json');
    const portBase = Number(env.LOCAL_PORT_BASE || 4000);
    const wanted: StackSettings = {
      portBase,
      databaseUrl: env.DATABASE_URL || `postgresql://postgres@127.0.0.1:${portBase + PORT_OFFSETS.database}/postgres`,
      embeddedDatabase: !env.DATABASE_URL,
      redisUrl: env.REDIS_URL || null,
    };
    if (existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as StackSettings;
      // Running again with other settings reconciles to them (the caller restarts what changed).
      if (JSON.stringify(saved) === JSON.stringify(wanted)) return saved;
    }
    this.ensure();
    writeFileSync(file, `${JSON.stringify(wanted, null, 2)}\n`, { mode: 0o600 });
    return wanted;
  }

  savedSettings(): StackSettings | null {
    const file = this.path('stack.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StackSettings) : null;
  }

  /** Signing keys, made once per stack and kept owner-only. */
  async keys(): Promise<StackKeys> {
    const file = this.path('keys.json');
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as StackKeys;
    this.ensure();
    const keys: StackKeys = { auth: await createAuthKeys(), metadata: await createMetadataKeys() };
    writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
    chmodSync(file, 0o600);
    return keys;
  }
}

export function portOf(settings: StackSettings, what: Component | 'gatewayMetrics'): number {
  return settings.portBase + PORT_OFFSETS[what];
}

export const urlOf = (settings: StackSettings, c: Exclude<Component, 'database'>) => `http://127.0.0.1:${portOf(settings, c)}`;

/** What supabase/config.toml says about auth (sign-up, confirmations, tokens, passwords), so the local auth behaves the same. */
export function authSettings(env: NodeJS.ProcessEnv = process.env): AuthSettings {
  return authSettingsFromToml(readFileSync(join(repoRoot, 'supabase', 'config.toml'), 'utf8'), env);
}

/** Where the local auth serves its mailbox (Mailpit's API under it), beside the auth. */
export const mailboxUrlOf = (settings: StackSettings) => `${urlOf(settings, 'auth')}/mailbox`;
