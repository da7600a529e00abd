// The signed-in user's own routes, as GoTrue answers them (bearer: the user's access token):
//   GET  /user              the user, from the database (not from the token)
//   PUT  /user              user_metadata merged key by key (null deletes); a new password, under
//                           config.toml's rules; a new e-mail, confirmed by mail before it applies
//   GET  /reauthenticate    a code by mail, for a password change in a session older than 24 h
//   POST /logout?scope=     global (every session of the user), local (this one), others; 204
// A token whose session was signed out is refused here (403 session_not_found), though anything
// that only checks its signature (the gateway) accepts it until it expires, as in production.

import { inTransaction, isAdminRole, json, requireUser, validEmail, type AuthContext, type AuthRequest, type Reply } from '../context.ts';
import { badRequest, forbidden, unprocessable } from '../errors.ts';
import { sendEmailChange, sendLink } from '../links.ts';
import { isValid, tokenHashOf } from '../one-time-tokens.ts';
import { checkPasswordStrength, hashPassword, hasPassword, passwordMatches } from '../passwords.ts';
import { redirectFor } from '../redirects.ts';
import { checkMetadata, objectField, optionalStringField, stringField } from '../request.ts';
import { DUPLICATE_EMAIL, isConfirmed, userJson, type UserChanges } from '../users.ts';

const DAY_MS = 24 * 3600 * 1000;

export async function getUser(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  const { claims, user } = await requireUser(ctx, request.req);
  const requested = (request.req.headers['x-jwt-aud'] as string | undefined) || 'authenticated';
  const audience = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
  if (audience !== requested) throw badRequest('validation_failed', "Token audience doesn't match request audience");
  return json(userJson(user));
}

export async function updateUser(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  const { user, session } = await requireUser(ctx, request.req);
  const body = await request.body();
  const email = stringField(body, 'email') ? validEmail(stringField(body, 'email')) : '';
  const password = optionalStringField(body, 'password');
  const currentPassword = optionalStringField(body, 'current_password');
  const nonce = stringField(body, 'nonce', 64);
  const data = objectField(body, 'data');
  const appData = objectField(body, 'app_metadata');
  if (stringField(body, 'phone', 64)) throw badRequest('phone_provider_disabled', 'Phone logins are disabled');
  if (stringField(body, 'code_challenge', 256)) throw badRequest('validation_failed', 'PKCE is not served by the local auth: use the implicit flow (supabase-js flowType "implicit", its default)');
  if (password !== undefined) checkPasswordStrength(ctx.settings, password);
  if (appData && !isAdminRole(user.role)) throw forbidden('not_admin', 'Updating app_metadata requires admin privileges');
  if (email && email !== user.email && (await ctx.users.byEmail(email))) throw unprocessable('email_exists', DUPLICATE_EMAIL);

  const changes: UserChanges = {};
  if (password !== undefined) {
    if (ctx.settings.securePasswordChange && (!session || Date.now() > session.created_at.getTime() + DAY_MS)) {
      if (!nonce) throw badRequest('reauthentication_needed', 'Password update requires reauthentication');
      if (!user.email || !isValid(ctx.settings, tokenHashOf(user.email, nonce), user.reauthentication_token, user.reauthentication_sent_at)) {
        throw unprocessable('reauthentication_not_valid', 'Nonce has expired or is invalid');
      }
    }
    if (password && hasPassword(user.encrypted_password)) {
      // After a link sign-in (recovery, magic link, invite) the current password is not asked for: that is how a forgotten one is replaced.
      if (ctx.settings.requireCurrentPassword && !(session && (await ctx.sessions.isRecovery(session.id)))) {
        if (!currentPassword) throw badRequest('current_password_required', 'Current password required when setting new password.');
        if (!(await passwordMatches(currentPassword, user.encrypted_password))) throw badRequest('current_password_invalid', 'Current password required when setting new password.');
      }
      if (await passwordMatches(password, user.encrypted_password)) throw unprocessable('same_password', 'New password should be different from the old password.');
    }
    // A new password voids every pending link and code, as in GoTrue.
    Object.assign(changes, {
      encrypted_password: await hashPassword(password),
      confirmation_token: '',
      confirmation_sent_at: null,
      recovery_token: '',
      recovery_sent_at: null,
      email_change_token_current: '',
      email_change_token_new: '',
      email_change_sent_at: null,
      reauthentication_token: '',
      reauthentication_sent_at: null,
    } satisfies UserChanges);
  }
  if (data) {
    const merged: Record<string, unknown> = { ...(user.raw_user_meta_data ?? {}) };
    for (const [key, value] of Object.entries(data)) {
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
    changes.raw_user_meta_data = checkMetadata('user_metadata', merged);
  }
  if (appData) changes.raw_app_meta_data = checkMetadata('app_metadata', { ...(user.raw_app_meta_data ?? {}), ...appData });

  const updated = await inTransaction(ctx, async (db) => {
    let current = Object.keys(changes).length ? await ctx.users.update(user.id, changes, db) : user;
    // A password change signs out every other session of the user.
    if (password !== undefined) await db.query(session ? 'delete from auth.sessions where user_id = $1 and id <> $2' : 'delete from auth.sessions where user_id = $1', session ? [user.id, session.id] : [user.id]);
    if (email && email !== user.email) current = await sendEmailChange(ctx, current, email, redirectFor(ctx.settings, request.redirectTo), db);
    return current;
  });
  return json(userJson(updated));
}

export async function reauthenticate(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  const { user } = await requireUser(ctx, request.req);
  if (!user.email) throw badRequest('validation_failed', 'Reauthentication requires the user to have an email or a phone number');
  if (!isConfirmed(user)) throw unprocessable('email_not_confirmed', 'Please verify your email first.');
  await inTransaction(ctx, (db) => sendLink(ctx, user, 'reauthentication', ctx.settings.siteUrl, db));
  return json({});
}

export async function logout(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  const { user, session } = await requireUser(ctx, request.req);
  const scope = request.url.searchParams.get('scope') || 'global';
  if (scope !== 'global' && scope !== 'local' && scope !== 'others') throw badRequest('validation_failed', `Unsupported logout scope "${scope.slice(0, 32)}"`);
  await ctx.sessions.end(user.id, session?.id ?? null, scope);
  return { status: 204 };
}
