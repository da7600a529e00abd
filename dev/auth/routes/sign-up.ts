// Sign-up and the requests that mail a link, as GoTrue answers them:
//   POST /signup   closed when config.toml's enable_signup is false (422 signup_disabled); with
//                  confirmations on, the user and a confirmation mail but no session; a confirmed
//                  address gets a made-up user and no mail, so sign-up does not reveal who exists
//   POST /otp      a magic link for a confirmed user; for anyone else, sign-up with a random password
//   POST /resend   the sign-up confirmation or the e-mail change mail again
//   POST /recover  a password recovery link
// The last three answer {} also for unknown addresses, and every mail obeys max_frequency.

import { inTransaction, json, signIn, validEmail, type AuthContext, type AuthRequest, type Reply } from '../context.ts';
import { badRequest, unprocessable } from '../errors.ts';
import { sendEmailChange, sendLink } from '../links.ts';
import { checkPasswordStrength, hashPassword, randomPassword } from '../passwords.ts';
import { redirectFor } from '../redirects.ts';
import { booleanField, objectField, refusePkce, stringField } from '../request.ts';
import { isConfirmed, madeUpUser, userJson, type UserRow } from '../users.ts';

const signupDisabled = () => unprocessable('signup_disabled', 'Signups not allowed for this instance');
const phoneDisabled = () => badRequest('phone_provider_disabled', 'Phone signups are disabled');

/**
 * The sign-up itself, shared with /otp for a new address: a new user, or an unconfirmed one mailed
 * again. Returns the user, or null when the address belongs to a confirmed user.
 */
async function signUpUser(ctx: AuthContext, email: string, password: string, data: Record<string, unknown>, redirectTo: string): Promise<UserRow | null> {
  if (!ctx.settings.signupEnabled) throw signupDisabled();
  const existing = await ctx.users.byEmail(email);
  if (existing && isConfirmed(existing)) return null;
  const encrypted = existing ? null : await hashPassword(password);
  return inTransaction(ctx, async (db) => {
    const user = existing ?? (await ctx.users.create({ email, encryptedPassword: encrypted, userMetadata: data }, db));
    // With confirmations off (GoTrue's mailer autoconfirm), a sign-up is confirmed at once.
    if (!ctx.settings.confirmEmail) return ctx.users.confirm(user, db);
    return sendLink(ctx, user, 'signup', redirectTo, db);
  });
}

export async function signUp(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  if (!ctx.settings.signupEnabled) throw signupDisabled();
  const body = await request.body();
  const email = stringField(body, 'email');
  const phone = stringField(body, 'phone', 64);
  const password = stringField(body, 'password');
  const data = objectField(body, 'data') ?? {};
  refusePkce(body);
  if (!password) throw badRequest('validation_failed', 'Signup requires a valid password');
  checkPasswordStrength(ctx.settings, password);
  if (email && phone) throw badRequest('validation_failed', 'Only an email address or phone number should be provided on signup.');
  if (phone) throw phoneDisabled();
  if (!email) throw badRequest('validation_failed', 'Sign up only available with email provider');
  const address = validEmail(email);
  const user = await signUpUser(ctx, address, password, data, redirectFor(ctx.settings, request.redirectTo));
  if (!user) {
    if (!ctx.settings.confirmEmail) throw unprocessable('user_already_exists', 'User already registered');
    return json(madeUpUser(address, data));
  }
  if (isConfirmed(user)) return json(await signIn(ctx, request, user, 'password'));
  const answer = userJson(user);
  // An invited user who has not accepted yet is not described to whoever signs up with their address.
  if (user.invited_at) Object.assign(answer, { user_metadata: {}, identities: [] });
  return json(answer);
}

export async function oneTimeLink(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  const body = await request.body();
  const email = stringField(body, 'email');
  const phone = stringField(body, 'phone', 64);
  const createUser = body.create_user === undefined ? true : booleanField(body, 'create_user');
  const data = objectField(body, 'data') ?? {};
  if (email && phone) throw badRequest('validation_failed', 'Only an email address or phone number should be provided');
  if (phone) throw badRequest('phone_provider_disabled', 'Phone logins are disabled');
  if (!email) throw unprocessable('validation_failed', 'Password recovery requires an email');
  const address = validEmail(email);
  refusePkce(body);
  const redirectTo = redirectFor(ctx.settings, request.redirectTo);
  const user = await ctx.users.byEmail(address);
  if (!user && !createUser) throw unprocessable('otp_disabled', 'Signups not allowed for otp');
  if (!user || !isConfirmed(user)) {
    const created = await signUpUser(ctx, address, randomPassword(ctx.settings), data, redirectTo);
    // Confirmed at sign-up (confirmations off): GoTrue then sends the magic link after all.
    if (created && isConfirmed(created)) await inTransaction(ctx, (db) => sendLink(ctx, created, 'magiclink', redirectTo, db));
    return json({});
  }
  await inTransaction(ctx, (db) => sendLink(ctx, user, 'magiclink', redirectTo, db));
  return json({});
}

export async function resend(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  const body = await request.body();
  const type = stringField(body, 'type', 32);
  const email = stringField(body, 'email');
  const phone = stringField(body, 'phone', 64);
  if (!['signup', 'email_change', 'sms', 'phone_change'].includes(type)) throw badRequest('validation_failed', 'Missing one of these types: signup, email_change, sms, phone_change');
  if (!email && type === 'signup') throw badRequest('validation_failed', 'Type provided requires an email address');
  if (!phone && type === 'sms') throw badRequest('validation_failed', 'Type provided requires a phone number');
  if (email && phone) throw badRequest('validation_failed', 'Only an email address or phone number should be provided.');
  if (phone) throw badRequest('phone_provider_disabled', 'Phone logins are disabled');
  if (!email) throw badRequest('validation_failed', 'Missing email address or phone number');
  const address = validEmail(email);
  refusePkce(body);
  const user = await ctx.users.byEmail(address);
  if (!user) return json({});
  const redirectTo = redirectFor(ctx.settings, request.redirectTo);
  if (type === 'signup' && !isConfirmed(user)) await inTransaction(ctx, (db) => sendLink(ctx, user, 'signup', redirectTo, db));
  if (type === 'email_change' && user.email_change) await inTransaction(ctx, (db) => sendEmailChange(ctx, user, user.email_change!, redirectTo, db));
  return json({});
}

export async function recover(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  const body = await request.body();
  const email = stringField(body, 'email');
  if (!email) throw badRequest('validation_failed', 'Password recovery requires an email');
  const address = validEmail(email);
  refusePkce(body);
  const user = await ctx.users.byEmail(address);
  if (user) await inTransaction(ctx, (db) => sendLink(ctx, user, 'recovery', redirectFor(ctx.settings, request.redirectTo), db));
  return json({});
}
