// Passwords: hashed with scrypt (GoTrue uses bcrypt; nothing outside the local auth reads the
// hash), checked against config.toml's policy with GoTrue's reasons and messages, and random
// ones for users who have none yet (an invited user, a magic-link sign-up).

import { randomBytes, randomInt, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { AuthError, badRequest } from './errors.ts';
import type { AuthSettings } from './settings.ts';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

/** bcrypt's limit, which GoTrue enforces for every password. */
export const MAX_PASSWORD_LENGTH = 72;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64')}$${(await scrypt(password, salt, 32)).toString('base64')}`;
}

export async function passwordMatches(password: string, stored: string | null): Promise<boolean> {
  const [kind, salt, hash] = (stored ?? '').split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), 32);
  const expected = Buffer.from(hash, 'base64');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export const hasPassword = (stored: string | null) => Boolean(stored);

/** What is weak about a password, as GoTrue says it; null when it meets the policy. */
export function passwordWeakness(settings: AuthSettings, password: string): { message: string; reasons: string[] } | null {
  const reasons: string[] = [];
  const messages: string[] = [];
  if (password.length < settings.minimumPasswordLength) {
    reasons.push('length');
    messages.push(`Password should be at least ${settings.minimumPasswordLength} characters.`);
  }
  if (settings.passwordRequiredCharacters.some((set) => ![...set].some((c) => password.includes(c)))) {
    reasons.push('characters');
    messages.push(`Password should contain at least one character of each: ${settings.passwordRequiredCharacters.join(', ')}.`);
  }
  return reasons.length ? { message: messages.join(' '), reasons } : null;
}

/** GoTrue's checkPasswordStrength: too long is 400, weak is 422 weak_password with its reasons. */
export function checkPasswordStrength(settings: AuthSettings, password: string): void {
  if (password.length > MAX_PASSWORD_LENGTH) throw badRequest('validation_failed', `Password cannot be longer than ${MAX_PASSWORD_LENGTH} characters`);
  const weak = passwordWeakness(settings, password);
  if (weak) throw new AuthError(422, 'weak_password', weak.message, { weak_password: { reasons: weak.reasons } });
}

/** A random password that meets any policy, for users who have not chosen one. */
export function randomPassword(settings: AuthSettings): string {
  const required = settings.passwordRequiredCharacters.map((set) => set[randomInt(set.length)]!).join('');
  return `${randomBytes(24).toString('base64url')}${required}`;
}
