// The admin API (bearer: a token with an admin role, i.e. the service_role key), as GoTrue:
//   GET    /admin/users?page=&per_page=   newest first, with X-Total-Count and Link headers
//   POST   /admin/users                   create (no password: a random one; no policy check, as GoTrue)
//   GET    /admin/users/{id}
//   PUT    /admin/users/{id}              e-mail, password (policy checked; signs every session out),
//                                         email_confirm, metadata (merged), ban_duration, role
//   DELETE /admin/users/{id}              hard delete (sessions and refresh tokens go with it)
//   POST   /admin/generate_link           a link and code without sending a mail
//   POST   /invite                        create the user if new and mail them an invite link

import { inTransaction, json, validEmail, type AuthContext, type AuthRequest, type Reply } from '../context.ts';
import { badRequest, notFound, unprocessable } from '../errors.ts';
import { sendLink } from '../links.ts';
import type { MailKind } from '../mailer.ts';
import { newOneTimeToken, tokenHashOf } from '../one-time-tokens.ts';
import { checkPasswordStrength, hashPassword, MAX_PASSWORD_LENGTH, randomPassword } from '../passwords.ts';
import { isRedirectAllowed, redirectFor } from '../redirects.ts';
import { booleanField, checkMetadata, objectField, optionalStringField, stringField, type JsonObject } from '../request.ts';
import { durationSeconds } from '../settings.ts';
import { DUPLICATE_EMAIL, isConfirmed, userJson, type UserChanges, type UserRow } from '../users.ts';

const DEFAULT_PER_PAGE = 50;
/** A bound GoTrue does not have: one page is at most this many users. */
const MAX_PER_PAGE = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function positiveInteger(value: string | null, fallback: number): number {
  if (!value) return fallback;
  if (!/^\d{1,9}$/.test(value) || Number(value) === 0) throw badRequest('validation_failed', `Bad Pagination Parameters: "${value.slice(0, 32)}" is not a positive integer`);
  return Number(value);
}

export async function listUsers(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  const q = request.url.searchParams;
  const page = positiveInteger(q.get('page'), 1);
  const perPage = Math.min(positiveInteger(q.get('per_page'), DEFAULT_PER_PAGE), MAX_PER_PAGE);
  const { users, total } = await ctx.users.page(page, perPage);
  const lastPage = Math.ceil(total / perPage);
  // As GoTrue builds it: the request's path behind the gateway (no /auth/v1), query keys sorted, page replaced.
  const linkTo = (p: number) => {
    const params = new URLSearchParams(q);
    params.set('page', String(p));
    params.sort();
    return `<${request.url.pathname.replace(/^\/auth\/v1/, '')}?${params.toString()}>`;
  };
  const link = `${lastPage > page ? `${linkTo(page + 1)}; rel="next", ` : ''}${linkTo(lastPage)}; rel="last"`;
  return { status: 200, body: { users: users.map(userJson), aud: 'authenticated' }, headers: { link, 'x-total-count': String(total) } };
}

async function userById(ctx: AuthContext, id: string): Promise<UserRow> {
  if (!UUID.test(id)) throw notFound('validation_failed', 'user_id must be an UUID');
  const user = await ctx.users.byId(id);
  if (!user) throw notFound('user_not_found', 'User not found');
  return user;
}

export async function getUserById(ctx: AuthContext, _request: AuthRequest, id: string): Promise<Reply> {
  return json(userJson(await userById(ctx, id)));
}

/** ban_duration: "none" lifts a ban; otherwise a Go duration from now. */
function bannedUntil(value: string): Date | null {
  if (value === 'none') return null;
  try {
    return new Date(Date.now() + durationSeconds(value) * 1000);
  } catch {
    throw badRequest('validation_failed', `invalid format for ban duration: ${value.slice(0, 32)}`);
  }
}

function refusePhone(body: JsonObject): void {
  if (stringField(body, 'phone', 64)) throw badRequest('validation_failed', 'Phone numbers are not served by the local auth');
}

export async function createUser(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  const body = await request.body();
  refusePhone(body);
  const email = stringField(body, 'email');
  if (!email) throw badRequest('validation_failed', 'Cannot create a user without either an email or phone');
  const address = validEmail(email);
  const password = optionalStringField(body, 'password');
  if (stringField(body, 'password_hash')) throw badRequest('validation_failed', 'password_hash is not served by the local auth (its hashes are not bcrypt)');
  if (password !== undefined && password.length > MAX_PASSWORD_LENGTH) throw badRequest('validation_failed', `Password cannot be longer than ${MAX_PASSWORD_LENGTH} characters`);
  const id = stringField(body, 'id', 64);
  if (id && (!UUID.test(id) || /^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(id))) throw badRequest('validation_failed', 'ID must conform to the uuid v4 format');
  if (await ctx.users.byEmail(address)) throw unprocessable('email_exists', DUPLICATE_EMAIL);
  const appMetadata = objectField(body, 'app_metadata');
  const banDuration = stringField(body, 'ban_duration', 32);
  const user = await inTransaction(ctx, async (db) => {
    let created = await ctx.users.create(
      {
        id: id || undefined,
        email: address,
        encryptedPassword: await hashPassword(password || randomPassword(ctx.settings)),
        userMetadata: objectField(body, 'user_metadata') ?? {},
        appMetadata: checkMetadata('app_metadata', { provider: 'email', providers: ['email'], ...(appMetadata ?? {}) }),
        role: stringField(body, 'role', 64) || 'authenticated',
      },
      db,
    );
    if (booleanField(body, 'email_confirm')) created = await ctx.users.confirm(created, db);
    if (banDuration) created = await ctx.users.update(created.id, { banned_until: bannedUntil(banDuration) }, db);
    return created;
  });
  return json(userJson(user));
}

export async function updateUserById(ctx: AuthContext, request: AuthRequest, id: string): Promise<Reply> {
  const user = await userById(ctx, id);
  const body = await request.body();
  refusePhone(body);
  const email = stringField(body, 'email') ? validEmail(stringField(body, 'email')) : '';
  const password = optionalStringField(body, 'password');
  if (password !== undefined) checkPasswordStrength(ctx.settings, password);
  const userMetadata = objectField(body, 'user_metadata');
  const appMetadata = objectField(body, 'app_metadata');
  const banDuration = stringField(body, 'ban_duration', 32);
  const role = stringField(body, 'role', 64);
  const changes: UserChanges = {};
  if (email) changes.email = email;
  if (password !== undefined) {
    Object.assign(changes, {
      encrypted_password: await hashPassword(password),
      confirmation_token: '',
      recovery_token: '',
      email_change_token_current: '',
      email_change_token_new: '',
      reauthentication_token: '',
    } satisfies UserChanges);
  }
  if (userMetadata) {
    const merged: Record<string, unknown> = { ...(user.raw_user_meta_data ?? {}) };
    for (const [k, v] of Object.entries(userMetadata)) if (v === null) delete merged[k];
    else merged[k] = v;
    changes.raw_user_meta_data = checkMetadata('user_metadata', merged);
  }
  if (appMetadata) changes.raw_app_meta_data = checkMetadata('app_metadata', { ...(user.raw_app_meta_data ?? {}), ...appMetadata });
  if (banDuration) changes.banned_until = bannedUntil(banDuration);
  const updated = await inTransaction(ctx, async (db) => {
    let current = Object.keys(changes).length ? await ctx.users.update(user.id, changes, db) : user;
    if (role) await db.query('update auth.users set role = $2 where id = $1', [user.id, role]);
    if (booleanField(body, 'email_confirm')) current = await ctx.users.confirm(current, db);
    // A password set by an admin signs the user out everywhere (GoTrue's UpdatePassword without a session).
    if (password !== undefined) await db.query('delete from auth.sessions where user_id = $1', [user.id]);
    return (await ctx.users.byId(user.id, db)) ?? current;
  });
  return json(userJson(updated));
}

export async function deleteUser(ctx: AuthContext, request: AuthRequest, id: string): Promise<Reply> {
  const user = await userById(ctx, id);
  const body = await request.body();
  if (booleanField(body, 'should_soft_delete')) throw badRequest('validation_failed', 'Soft deletion is not served by the local auth');
  await ctx.users.delete(user.id);
  return json({});
}

const LINK_TYPES = ['signup', 'invite', 'magiclink', 'recovery', 'email_change_current', 'email_change_new'];

export async function generateLink(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  const body = await request.body();
  let type = stringField(body, 'type', 32);
  const address = validEmail(stringField(body, 'email'));
  let password = stringField(body, 'password');
  const data = objectField(body, 'data') ?? {};
  const fromBody = stringField(body, 'redirect_to');
  const redirectTo = isRedirectAllowed(ctx.settings, fromBody) ? fromBody : redirectFor(ctx.settings, request.redirectTo);
  if (!LINK_TYPES.includes(type)) throw badRequest('validation_failed', `Invalid email action link type requested: ${type.slice(0, 32)}`);
  let user = await ctx.users.byEmail(address);
  if (!user) {
    if (type === 'magiclink') {
      type = 'signup';
      password = randomPassword(ctx.settings);
    } else if (type !== 'signup' && type !== 'invite') throw notFound('user_not_found', 'User with this email not found');
  }
  if (type === 'signup' && !user) {
    if (!password) throw badRequest('validation_failed', 'Signup requires a valid password');
    checkPasswordStrength(ctx.settings, password);
  }
  const otp = newOneTimeToken(ctx.settings, address);
  let linkType = type as MailKind;
  let linkToken = otp.hash;
  const result = await inTransaction(ctx, async (db) => {
    if (type === 'signup' || type === 'invite') {
      if (user && isConfirmed(user)) throw unprocessable('email_exists', DUPLICATE_EMAIL);
      if (!user) user = await ctx.users.create({ email: address, encryptedPassword: type === 'signup' ? await hashPassword(password) : null, userMetadata: data }, db);
      else if (type === 'signup') user = await ctx.users.update(user.id, { raw_user_meta_data: checkMetadata('user_metadata', { ...(user.raw_user_meta_data ?? {}), ...data }) }, db);
      const changes: UserChanges = { confirmation_token: otp.hash, confirmation_sent_at: new Date() };
      if (type === 'invite') changes.invited_at = new Date();
      return ctx.users.update(user.id, changes, db);
    }
    if (type === 'magiclink' || type === 'recovery') return ctx.users.update(user!.id, { recovery_token: otp.hash, recovery_sent_at: new Date() }, db);
    // email_change_current / email_change_new
    if (type === 'email_change_current' && !ctx.settings.secureEmailChange) throw badRequest('validation_failed', 'Enable secure email change to generate link for current email');
    const newEmail = validEmail(stringField(body, 'new_email'));
    const taken = await ctx.users.byEmail(newEmail, db);
    if (taken && taken.id !== user!.id) throw unprocessable('email_exists', DUPLICATE_EMAIL);
    linkType = 'email_change';
    const changes: UserChanges = { email_change: newEmail, email_change_sent_at: new Date(), email_change_confirm_status: 0 };
    if (type === 'email_change_current') changes.email_change_token_current = otp.hash;
    else changes.email_change_token_new = linkToken = tokenHashOf(newEmail, otp.otp);
    return ctx.users.update(user!.id, changes, db);
  });
  return json({
    ...userJson(result),
    action_link: ctx.mailer.linkFor(linkType, linkToken, redirectTo),
    email_otp: otp.otp,
    hashed_token: otp.hash,
    verification_type: type,
    redirect_to: redirectTo,
  });
}

export async function invite(ctx: AuthContext, request: AuthRequest): Promise<Reply> {
  const body = await request.body();
  const address = validEmail(stringField(body, 'email'));
  const data = objectField(body, 'data') ?? {};
  const redirectTo = redirectFor(ctx.settings, request.redirectTo);
  const existing = await ctx.users.byEmail(address);
  if (existing && isConfirmed(existing)) throw unprocessable('email_exists', DUPLICATE_EMAIL);
  const user = await inTransaction(ctx, async (db) => {
    const invited = existing ?? (await ctx.users.create({ email: address, encryptedPassword: null, userMetadata: data }, db));
    return sendLink(ctx, invited, 'invite', redirectTo, db);
  });
  return json(userJson(user));
}
