// The local auth as the auth tests start it: its own database on the tests' PostgreSQL (the
// Supabase-compatible bootstrap applied, as the stack has it), the issuer in this process on a
// free port with supabase/config.toml's settings (or a variant of them a test names), and
// supabase-js clients pointed at it. Mail is read back through the mailbox's Mailpit API.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { startAuthIssuer, type RunningAuthIssuer } from '../../dev/auth/issuer.ts';
import { createAuthKeys, type AuthKeys } from '../../dev/auth/keys.ts';
import { authSettingsFromToml, type AuthSettings } from '../../dev/auth/settings.ts';
import { applySupabaseBootstrap } from '../../dev/supabase/bootstrap.ts';
import { repoRoot } from '../helpers/process.ts';
import { createScratchDatabase, type ScratchDatabase } from '../supabase/databases.ts';

/** The settings the local stack runs with: supabase/config.toml's, no SUPABASE_AUTH_* set. */
export const configSettings = (): AuthSettings => authSettingsFromToml(readFileSync(join(repoRoot, 'supabase', 'config.toml'), 'utf8'), {});

export async function authDatabase(label: string): Promise<ScratchDatabase> {
  const db = await createScratchDatabase(label);
  try {
    await applySupabaseBootstrap(db.url);
  } catch (error) {
    await db.drop();
    throw error;
  }
  return db;
}

export interface MailpitMessage {
  ID: string;
  Subject: string;
  To: { Name: string; Address: string }[];
  Text: string;
  HTML: string;
}

export class AuthUnderTest {
  private constructor(
    readonly issuer: RunningAuthIssuer,
    readonly keys: AuthKeys,
    readonly settings: AuthSettings,
  ) {}

  static async start(databaseUrl: string, settings: AuthSettings, keys?: AuthKeys): Promise<AuthUnderTest> {
    const k = keys ?? (await createAuthKeys());
    return new AuthUnderTest(await startAuthIssuer({ databaseUrl, keys: k, settings }), k, settings);
  }

  get url(): string {
    return this.issuer.url;
  }

  /** A fresh supabase-js client, as an app or a server script makes one (no storage between runs, no timers). */
  client(key: 'anon' | 'service_role' = 'anon', options: { flowType?: 'implicit' | 'pkce' } = {}): SupabaseClient {
    return createClient(this.url, key === 'anon' ? this.keys.anonKey : this.keys.serviceRoleKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false, ...options },
    });
  }

  admin() {
    return this.client('service_role').auth.admin;
  }

  /** The mail sent to this address, newest first, through the mailbox's Mailpit API. */
  async mailsTo(to: string): Promise<MailpitMessage[]> {
    const found = (await (await fetch(`${this.issuer.mailboxUrl}/api/v1/search?query=${encodeURIComponent(`to:"${to}"`)}`)).json()) as { messages: { ID: string }[] };
    return Promise.all(found.messages.map(async (m) => (await (await fetch(`${this.issuer.mailboxUrl}/api/v1/message/${m.ID}`)).json()) as MailpitMessage));
  }

  async latestMailTo(to: string): Promise<MailpitMessage> {
    const [newest] = await this.mailsTo(to);
    if (!newest) throw new Error(`no mail to ${to}`);
    return newest;
  }

  /** A raw request to the auth, for what supabase-js cannot send (bad bodies, missing headers). */
  fetch(path: string, init: RequestInit & { key?: 'anon' | 'service_role' | 'none' } = {}): Promise<Response> {
    const key = init.key ?? 'anon';
    const headers = new Headers(init.headers);
    if (key !== 'none' && !headers.has('apikey')) headers.set('apikey', key === 'anon' ? this.keys.anonKey : this.keys.serviceRoleKey);
    return fetch(`${this.url}/auth/v1${path}`, { ...init, headers, redirect: 'manual' });
  }

  close(): Promise<void> {
    return this.issuer.close();
  }
}

export const newEmail = (label: string) => `${label}-${randomBytes(5).toString('hex')}@example.test`;
/** Meets config.toml's policy (12 characters, letters and digits). */
export const goodPassword = () => `pw${randomBytes(9).toString('hex')}7`;

export function linkIn(mail: MailpitMessage): string {
  const link = /https?:\/\/\S+\/verify\?\S+/.exec(mail.Text)?.[0];
  if (!link) throw new Error(`no link in "${mail.Subject}": ${mail.Text}`);
  return link;
}

export const tokenHashIn = (link: string) => new URL(link).searchParams.get('token')!;
export const codeIn = (mail: MailpitMessage) => /code: (\d+)/.exec(mail.Text)![1]!;

/** GETs a link without following it: the status, and the redirect's fragment as parameters. */
export async function follow(link: string, headers: Record<string, string> = {}): Promise<{ status: number; location: string; fragment: URLSearchParams; headers: Headers }> {
  const response = await fetch(link, { redirect: 'manual', headers });
  await response.body?.cancel();
  const location = response.headers.get('location') ?? '';
  return { status: response.status, location, fragment: new URLSearchParams(location.split('#')[1] ?? ''), headers: response.headers };
}
