// make production-revoke-session USER_ID=<supabase user id>: the gateway refuses every token of
// that user issued until now, within 30 s, without waiting for the 24 h expiry. It adds a version
// of the revoked-sessions secret (the list the gateway mounts and re-reads), dropping entries
// older than a token's lifetime, which can no longer match a valid token. Supabase itself must
// still sign the user out (or ban them), or their refresh token gets them a new access token.

import { gcloud } from './lib/cli.ts';
import { runtimeVar } from './lib/command.ts';
import { runIfMain } from './lib/engine.ts';
import { PROJECT_ID } from './lib/gcp.ts';
import { defineRunbook, StepFailure } from './lib/runbook.ts';

const SECRET = 'revoked-sessions';
/** The Supabase access token lifetime (supabase/config.toml jwt_expiry) plus the gateway's clock tolerance. */
const KEEP_SECONDS = 86_400 + 3_600;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const CURRENT_LIST = runtimeVar('CURRENT_LIST');
const NEW_LIST = runtimeVar('NEW_LIST');
const readList = gcloud`secrets versions access latest --secret=${SECRET} --project ${PROJECT_ID}`.captureInto(CURRENT_LIST);
const addList = gcloud`secrets versions add ${SECRET} --project ${PROJECT_ID} --data-file=-`.withStdin(NEW_LIST);

const HEADER = '# Revoked sessions, one per line: <supabase user id> <revoked at, ISO 8601> (make production-revoke-session)';

/** The list with `userId` revoked at `now`, and entries too old to matter dropped; comments other than the header go. */
export function revokedList(current: string, userId: string, now: Date): { text: string; kept: number; dropped: number } {
  const lines: string[] = [];
  let dropped = 0;
  for (const raw of current.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [id, at] = line.split(/\s+/);
    if (!id || !at || id.toLowerCase() === userId.toLowerCase()) continue;
    const when = Date.parse(at);
    if (Number.isNaN(when) || now.getTime() - when > KEEP_SECONDS * 1000) {
      dropped++;
      continue;
    }
    lines.push(`${id} ${new Date(when).toISOString()}`);
  }
  lines.push(`${userId.toLowerCase()} ${now.toISOString()}`);
  return { text: `${HEADER}\n${lines.join('\n')}\n`, kept: lines.length - 1, dropped };
}

export const revokeSession = defineRunbook({
  id: 'revoke-session',
  title: 'Revoke a user’s sessions at the gateway',
  make: 'production-revoke-session',
  params: [
    {
      name: 'USER_ID',
      description: 'Supabase user id (Dashboard > Authentication > Users) whose current tokens the gateway must refuse.',
      example: '',
      check: (v) => (UUID.test(v) ? null : 'expected a Supabase user id such as 2b7c1f0e-4a5d-4c8e-9f3a-1d2e3f405162'),
    },
  ],
  requires: ['USER_ID'],
  steps: [
    { id: 'read', title: 'Read the revoked-sessions list', commands: [readList] },
    {
      id: 'add',
      title: 'Add the user and store the list as a new version',
      commands: [addList],
      confirm: 'Store the new revoked-sessions list? The gateway refuses this user’s current tokens within 30 s.',
      async run(ctx) {
        const userId = ctx.config.require('USER_ID');
        const next = revokedList(ctx.value(CURRENT_LIST), userId, new Date());
        if (Buffer.byteLength(next.text) > 60_000) throw new StepFailure('the list would pass Secret Manager’s 64 KiB: it only holds the last 25 h, so this many revocations at once needs a look first');
        ctx.setValue(NEW_LIST, next.text);
        await ctx.run(addList);
        ctx.print(
          `Revoked ${userId} now; ${next.kept} other entr${next.kept === 1 ? 'y' : 'ies'} kept, ${next.dropped} older than a token's lifetime dropped.\n` +
            'Also sign the user out in Supabase (Dashboard > Authentication > Users > the user > Sign out, or ban them), so their refresh token gets no new access token.',
        );
        return { note: `${next.kept + 1} users listed` };
      },
    },
  ],
});

runIfMain(import.meta.url, revokeSession);
