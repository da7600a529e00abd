// POST /token?grant_type=password|refresh_token, as GoTrue answers them. Password: a wrong
// address or password is 400 invalid_credentials (the same for both, so it reveals nothing); the
// right password for an unconfirmed address is 400 email_not_confirmed; a password that no longer
// meets the policy still signs in, with weak_password in the answer. Refresh: see sessions.ts.

import { json, sessionBody, signIn, type AuthContext, type AuthRequest, type Reply } from '../context.ts';
import { badRequest, unprocessable } from '../errors.ts';
import { hasPassword, passwordMatches, passwordWeakness } from '../passwords.ts';
import { stringField } from '../request.ts';
import { isBanned, isConfirmed } from '../users.ts';

const invalidCredentials = () => badRequest('invalid_credentials', 'Invalid login credentials');

async function passwordGrant(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  const body = await request.body();
  const email = stringField(body, 'email');
  const phone = stringField(body, 'phone', 64);
  const password = stringField(body, 'password');
  if (email && phone) throw badRequest('validation_failed', 'Only an email address or phone number should be provided on login.');
  if (phone) throw unprocessable('phone_provider_disabled', 'Phone logins are disabled');
  if (!email) throw badRequest('validation_failed', 'missing email or phone');
  const user = email.length <= 255 ? await ctx.users.byEmail(email.toLowerCase()) : null;
  if (!user || !hasPassword(user.encrypted_password)) throw invalidCredentials();
  if (isBanned(user)) throw badRequest('user_banned', 'User is banned');
  if (!(await passwordMatches(password, user.encrypted_password))) throw invalidCredentials();
  if (!isConfirmed(user)) throw badRequest('email_not_confirmed', 'Email not confirmed');
  const session = await signIn(ctx, request, user, 'password');
  const weak = passwordWeakness(ctx.settings, password);
  return json(weak ? { ...session, weak_password: weak } : session);
}

async function refreshGrant(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  const body = await request.body();
  const refreshed = await ctx.sessions.refresh(stringField(body, 'refresh_token', 512), ctx.settings);
  return json(await sessionBody(ctx, refreshed.user, refreshed.sessionId, refreshed.refreshToken));
}

export async function token(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  switch (request.url.searchParams.get('grant_type')) {
    case 'password':
      return passwordGrant(ctx, request);
    case 'refresh_token':
      return refreshGrant(ctx, request);
    default:
      // pkce, id_token and web3 exist in GoTrue but are not served here (see the local environment's docs).
      throw badRequest('invalid_credentials', 'unsupported_grant_type');
  }
}
