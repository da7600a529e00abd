// Sending a one-time link, as GoTrue's send* functions do: refuse when the last mail of that kind
// went out less than max_frequency ago, store the new token hash and when it was sent on the user
// (a new link replaces the old one), then mail the link and the code. Generating a link for an
// admin (generate_link) stores it the same way and sends nothing.

import type { AuthContext } from './context.ts';
import type { MailKind } from './mailer.ts';
import { checkMailFrequency, newOneTimeToken, type OneTimeToken } from './one-time-tokens.ts';
import type { Queryable, UserChanges, UserRow } from './users.ts';

/** Which columns hold a kind's pending token and when it was sent (magic links share recovery's, as in GoTrue). */
const SLOTS = {
  signup: ['confirmation_token', 'confirmation_sent_at'],
  invite: ['confirmation_token', 'confirmation_sent_at'],
  magiclink: ['recovery_token', 'recovery_sent_at'],
  recovery: ['recovery_token', 'recovery_sent_at'],
  reauthentication: ['reauthentication_token', 'reauthentication_sent_at'],
} as const;

type SlotKind = keyof typeof SLOTS;

/** Stores a new token for this kind of link on the user; returns it and the updated user. */
export async function storeToken(
  ctx: AuthContext,
  user: UserRow,
  kind: SlotKind,
  db: Queryable,
  options: { checkFrequency: boolean },
): Promise<{ token: OneTimeToken; user: UserRow }> {
  const [tokenColumn, sentColumn] = SLOTS[kind];
  // Invites are not limited by frequency in GoTrue: an admin may re-invite at once.
  if (options.checkFrequency && kind !== 'invite') checkMailFrequency(ctx.settings, user[sentColumn]);
  const token = newOneTimeToken(ctx.settings, user.email!);
  const changes: UserChanges = { [tokenColumn]: token.hash, [sentColumn]: new Date() };
  if (kind === 'invite') changes.invited_at = new Date();
  return { token, user: await ctx.users.update(user.id, changes, db) };
}

/** Sends a link of this kind to the user's address (after storing its token). */
export async function sendLink(ctx: AuthContext, user: UserRow, kind: SlotKind & MailKind, redirectTo: string, db: Queryable): Promise<UserRow> {
  const { token, user: updated } = await storeToken(ctx, user, kind, db, { checkFrequency: true });
  ctx.mailer.send(kind, user.email!, { email: user.email!, otp: token.otp, tokenHash: kind === 'reauthentication' ? undefined : token.hash, redirectTo });
  return updated;
}

/**
 * An e-mail change: a link to the new address and, with double_confirm_changes, one to the
 * current address; the change is made once both are followed (or the one, without it).
 */
export async function sendEmailChange(ctx: AuthContext, user: UserRow, newEmail: string, redirectTo: string, db: Queryable): Promise<UserRow> {
  checkMailFrequency(ctx.settings, user.email_change_sent_at);
  const toNew = newOneTimeToken(ctx.settings, newEmail);
  const toCurrent = ctx.settings.secureEmailChange && user.email ? newOneTimeToken(ctx.settings, user.email) : null;
  const updated = await ctx.users.update(
    user.id,
    {
      email_change: newEmail,
      email_change_token_new: toNew.hash,
      email_change_token_current: toCurrent?.hash ?? '',
      email_change_confirm_status: 0,
      email_change_sent_at: new Date(),
    },
    db,
  );
  ctx.mailer.send('email_change', newEmail, { email: user.email ?? '', newEmail, otp: toNew.otp, tokenHash: toNew.hash, redirectTo });
  if (toCurrent) ctx.mailer.send('email_change', user.email!, { email: user.email!, newEmail, otp: toCurrent.otp, tokenHash: toCurrent.hash, redirectTo });
  return updated;
}
