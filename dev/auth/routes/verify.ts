// Following a link or entering a code, as GoTrue's /verify:
//   GET  /verify?token=<hash>&type=&redirect_to=   the link in a mail: always 303 to the redirect,
//        with the session in the fragment (#access_token=...&type=signup) or the error there
//   POST /verify {token_hash, type} | {email, token, type}   the same, answered with the session
// A token is good once and for otp_expiry seconds; an unknown, used or expired one is 403
// otp_expired. signup and invite confirm the address (an invited user gets a random password
// until they set one); magiclink and recovery sign in; email_change completes once every address
// it was sent to has confirmed.

import { inTransaction, json, sessionBody, validEmail, type AuthContext, type AuthRequest, type Reply } from '../context.ts';
import { AuthError, badRequest, forbidden } from '../errors.ts';
import { isExpired, isValid, tokenHashOf } from '../one-time-tokens.ts';
import { hashPassword, randomPassword } from '../passwords.ts';
import { redirectFor } from '../redirects.ts';
import { stringField } from '../request.ts';
import { isBanned, isConfirmed, type Queryable, type UserRow } from '../users.ts';

const EMAIL_TYPES = ['signup', 'invite', 'magiclink', 'recovery', 'email_change', 'email'] as const;
type EmailType = (typeof EMAIL_TYPES)[number];

/** What a verification did: a user to sign in, or the first half of a double-confirmed e-mail change. */
type Verified = { user: UserRow; type: EmailType } | { halfOfEmailChange: true };

const SINGLE_CONFIRMATION = 'Confirmation link accepted. Please proceed to confirm link sent to the other email';

const linkInvalid = () => forbidden('otp_expired', 'Email link is invalid or has expired');
const codeInvalid = () => forbidden('otp_expired', 'Token has expired or is invalid');

/** The user a token hash belongs to, for this type (GoTrue's verifyTokenHash). */
async function userByTokenHash(ctx: AuthContext, type: EmailType, hash: string, db: Queryable): Promise<{ user: UserRow; type: EmailType }> {
  let user: UserRow | null = null;
  let resolved = type;
  if (type === 'email') {
    user = (await ctx.users.byToken('confirmation_token', hash, db)) ?? (await ctx.users.byToken('recovery_token', hash, db));
    resolved = user && user.recovery_token === hash ? 'magiclink' : 'signup';
  } else if (type === 'signup' || type === 'invite') user = await ctx.users.byToken('confirmation_token', hash, db);
  else if (type === 'magiclink' || type === 'recovery') user = await ctx.users.byToken('recovery_token', hash, db);
  else user = await ctx.users.byToken('email_change_token', hash, db);
  if (!user) throw linkInvalid();
  if (isBanned(user)) throw forbidden('user_banned', 'User is banned');
  const sentAt = resolved === 'signup' || resolved === 'invite' ? user.confirmation_sent_at : resolved === 'email_change' ? user.email_change_sent_at : user.recovery_sent_at;
  if (isExpired(ctx.settings, sentAt)) throw linkInvalid();
  return { user, type: resolved };
}

/** The user an e-mail and a code belong to (GoTrue's verifyUserAndToken). */
async function userByCode(ctx: AuthContext, type: EmailType, email: string, code: string, db: Queryable): Promise<{ user: UserRow; type: EmailType; hash: string }> {
  const user = type === 'email_change' ? await userForEmailChange(ctx, email, db) : await ctx.users.byEmail(email, db);
  if (!user) throw codeInvalid();
  if (isBanned(user)) throw forbidden('user_banned', 'User is banned');
  const hash = tokenHashOf(email, code);
  const s = ctx.settings;
  if (type === 'email') {
    if (isValid(s, hash, user.confirmation_token, user.confirmation_sent_at)) return { user, type: 'signup', hash };
    if (isValid(s, hash, user.recovery_token, user.recovery_sent_at)) return { user, type: 'magiclink', hash };
    throw codeInvalid();
  }
  const ok =
    type === 'signup' || type === 'invite'
      ? isValid(s, hash, user.confirmation_token, user.confirmation_sent_at)
      : type === 'email_change'
        ? isValid(s, hash, user.email_change_token_current, user.email_change_sent_at) || isValid(s, hash, user.email_change_token_new, user.email_change_sent_at)
        : isValid(s, hash, user.recovery_token, user.recovery_sent_at);
  if (!ok) throw codeInvalid();
  return { user, type, hash };
}

/** An e-mail change's code may be entered with the new address or the current one. */
async function userForEmailChange(ctx: AuthContext, email: string, db: Queryable): Promise<UserRow | null> {
  const { rows } = await db.query<{ id: string }>(`select id from auth.users where email_change = $1 or (email = $1 and email_change <> '') limit 1`, [email]);
  return rows[0] ? ctx.users.byId(rows[0].id, db) : null;
}

/** What following the link does to the user. */
async function apply(ctx: AuthContext, user: UserRow, type: EmailType, hash: string, db: Queryable): Promise<Verified> {
  switch (type) {
    case 'signup':
    case 'invite': {
      let current = user;
      // An invited user has no password until they set one; GoTrue gives them a random one.
      if (!current.encrypted_password && current.invited_at) current = await ctx.users.update(current.id, { encrypted_password: await hashPassword(randomPassword(ctx.settings)) }, db);
      return { user: await ctx.users.confirm(current, db), type };
    }
    case 'magiclink':
    case 'recovery': {
      const recovered = await ctx.users.update(user.id, { recovery_token: '' }, db);
      return { user: isConfirmed(recovered) ? recovered : await ctx.users.confirm(recovered, db), type };
    }
    case 'email_change':
      return changeEmail(ctx, user, hash, db);
    default:
      throw badRequest('validation_failed', 'Unsupported verification type');
  }
}

async function changeEmail(ctx: AuthContext, user: UserRow, hash: string, db: Queryable): Promise<Verified> {
  const both = ctx.settings.confirmEmail && ctx.settings.secureEmailChange && user.email_change_confirm_status === 0 && Boolean(user.email);
  if (both && user.email_change_token_current && user.email_change_token_new) {
    const which = hash === user.email_change_token_current ? { email_change_token_current: '' } : { email_change_token_new: '' };
    await ctx.users.update(user.id, { ...which, email_change_confirm_status: 1 }, db);
    return { halfOfEmailChange: true };
  }
  const changed = await ctx.users.update(
    user.id,
    { email: user.email_change, email_change: '', email_change_token_current: '', email_change_token_new: '', email_change_confirm_status: 0 },
    db,
  );
  return { user: isConfirmed(changed) ? changed : await ctx.users.confirm(changed, db), type: 'email_change' };
}

function emailType(type: string): EmailType {
  if ((EMAIL_TYPES as readonly string[]).includes(type)) return type as EmailType;
  throw badRequest('validation_failed', 'Invalid email verification type');
}

/** The verification, then the session it signs in, in one transaction. */
async function verify(ctx: AuthContext, request: AuthRequest, find: (db: Queryable) => Promise<{ user: UserRow; type: EmailType; hash: string }>) {
  return inTransaction(ctx, async (db) => {
    const found = await find(db);
    const verified = await apply(ctx, found.user, found.type, found.hash, db);
    if ('halfOfEmailChange' in verified) return verified;
    const { sessionId, refreshToken } = await ctx.sessions.start(verified.user, 'otp', request.client, db);
    const user = (await ctx.users.byId(verified.user.id, db)) ?? verified.user;
    return { type: verified.type, session: await sessionBody(ctx, user, sessionId, refreshToken, db) };
  });
}

export async function verifyPost(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  const body = await request.body();
  const type = stringField(body, 'type', 32);
  const token = stringField(body, 'token', 64);
  const tokenHash = stringField(body, 'token_hash', 128);
  const email = stringField(body, 'email');
  const phone = stringField(body, 'phone', 64);
  if (!type) throw badRequest('validation_failed', 'Verify requires a verification type');
  if ((!token && !tokenHash) || (token && tokenHash)) throw badRequest('validation_failed', 'Verify requires either a token or a token hash');
  if (tokenHash && (email || phone || stringField(body, 'redirect_to'))) throw badRequest('validation_failed', 'Only the token_hash and type should be provided');
  // Phone codes: no user here has a phone, so no code can match.
  if (type === 'sms' || type === 'phone_change') throw codeInvalid();
  if (token && !email) throw badRequest('validation_failed', 'Only an email address or phone number should be provided on verify');
  const kind = emailType(type);
  const result = await verify(ctx, request, async (db) => {
    if (tokenHash) return { ...(await userByTokenHash(ctx, kind, tokenHash, db)), hash: tokenHash };
    let address: string;
    try {
      address = validEmail(email);
    } catch {
      throw new AuthError(422, 'validation_failed', 'Invalid email format');
    }
    return userByCode(ctx, kind, address, token, db);
  });
  if ('halfOfEmailChange' in result) return json({ msg: SINGLE_CONFIRMATION, code: '200' });
  return json(result.session);
}

/** Go's url.Values.Encode: keys sorted, values escaped. */
const encode = (params: Record<string, string>) =>
  Object.keys(params)
    .sort()
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(params[k]!).replace(/%20/g, '+')}`)
    .join('&');

const OAUTH_ERRORS: Record<number, string> = { 400: 'invalid_request', 401: 'unauthorized_client', 403: 'access_denied', 500: 'server_error', 503: 'temporarily_unavailable' };

export async function verifyGet(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  const type = request.url.searchParams.get('type') ?? '';
  const token = request.url.searchParams.get('token') ?? '';
  const redirect = redirectFor(ctx.settings, request.redirectTo);
  if (!type) throw badRequest('validation_failed', 'Verify requires a verification type');
  if (!token) throw badRequest('validation_failed', 'Verify requires a token or a token hash');
  if (token.length > 128) throw badRequest('validation_failed', 'token is too long');
  const see = (fragment: Record<string, string>): Reply => ({ status: 303, headers: { location: `${redirect.split('#')[0]}#${encode(fragment)}` } });
  try {
    const kind = emailType(type);
    const result = await verify(ctx, request, async (db) => ({ ...(await userByTokenHash(ctx, kind, token, db)), hash: token }));
    if ('halfOfEmailChange' in result) return see({ message: SINGLE_CONFIRMATION, sb: '' });
    const s = result.session;
    return see({
      access_token: String(s.access_token),
      expires_at: String(s.expires_at),
      expires_in: String(s.expires_in),
      refresh_token: String(s.refresh_token),
      sb: '',
      token_type: 'bearer',
      type: result.type,
    });
  } catch (error) {
    if (!(error instanceof AuthError) || error.status >= 500) throw error;
    return see({ ...(OAUTH_ERRORS[error.status] ? { error: OAUTH_ERRORS[error.status]! } : {}), error_code: error.code, error_description: error.message, sb: '' });
  }
}
