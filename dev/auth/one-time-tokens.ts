// One-time codes and the links that carry them, as GoTrue makes them: a numeric code of
// otp_length digits, and its token hash, sha224(email + code) in hex, which is what a link's
// `token=` carries and what the users table stores. A code is good for otp_expiry seconds after it
// was sent, and once. A user is sent a mail of one kind at most once per max_frequency.

import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { tooManyRequests } from './errors.ts';
import type { AuthSettings } from './settings.ts';

export interface OneTimeToken {
  /** The code a person types. */
  otp: string;
  /** What links carry and the database keeps. */
  hash: string;
}

export const tokenHashOf = (emailOrPhone: string, otp: string) => createHash('sha224').update(emailOrPhone + otp).digest('hex');

export function newOneTimeToken(settings: AuthSettings, email: string): OneTimeToken {
  const otp = String(randomInt(0, 10 ** settings.otpLength)).padStart(settings.otpLength, '0');
  return { otp, hash: tokenHashOf(email, otp) };
}

/** GoTrue's isOtpExpired: sent more than otp_expiry seconds ago (or never). */
export function isExpired(settings: AuthSettings, sentAt: Date | null, now = Date.now()): boolean {
  return sentAt === null || now > sentAt.getTime() + settings.otpExpirySeconds * 1000;
}

/** A presented hash equals the stored one (compared in constant time), which is still fresh. */
export function isValid(settings: AuthSettings, presented: string, stored: string | null, sentAt: Date | null): boolean {
  if (!stored || !presented || isExpired(settings, sentAt)) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** 429 over_email_send_rate_limit when the last mail of this kind went out less than max_frequency ago. */
export function checkMailFrequency(settings: AuthSettings, sentAt: Date | null, now = Date.now()): void {
  if (!sentAt) return;
  const until = sentAt.getTime() + settings.emailMaxFrequencySeconds * 1000;
  if (until > now) throw tooManyRequests('over_email_send_rate_limit', `For security purposes, you can only request this after ${Math.floor((until - now) / 1000)} seconds.`);
}
