// What the local auth takes from supabase/config.toml's [auth] section, so it refuses and allows
// what production's project does: sign-up open or closed, e-mail confirmation, token lifetimes,
// refresh-token rotation, the password policy, how often a user may be mailed, one-time codes,
// the site URL and the redirect allow list. `env(NAME)` values are read from the environment as
// the Supabase CLI reads them; unset, the site URL is the CLI's default (http://127.0.0.1:3000)
// and an unset additional redirect URL is left out.

import { parse as parseToml } from 'smol-toml';

export interface AuthSettings {
  /** site_url: where links in mails land when no allowed redirect_to is given. */
  siteUrl: string;
  /** additional_redirect_urls: exact URLs or globs (`*` within a segment, `**` across). */
  redirectAllowList: string[];
  /** jwt_expiry, in seconds. */
  jwtExpirySeconds: number;
  /** enable_signup: false refuses POST /signup and sign-up through a one-time link. */
  signupEnabled: boolean;
  /** [auth.email] enable_confirmations: false confirms at sign-up (GoTrue's mailer autoconfirm). */
  confirmEmail: boolean;
  /** enable_refresh_token_rotation: a reused refresh token revokes its whole session. */
  refreshTokenRotation: boolean;
  /** refresh_token_reuse_interval, in seconds: a just-rotated token still works this long. */
  refreshTokenReuseIntervalSeconds: number;
  minimumPasswordLength: number;
  /** password_requirements as GoTrue's character sets: each must appear at least once. */
  passwordRequiredCharacters: string[];
  /** double_confirm_changes: an e-mail change is confirmed from the old and the new address. */
  secureEmailChange: boolean;
  /** secure_password_change: a session older than 24 h needs a reauthentication code. */
  securePasswordChange: boolean;
  /** require_current_password: changing a password needs the current one (not after a link sign-in). */
  requireCurrentPassword: boolean;
  /** max_frequency, in seconds: the least time between two mails of one kind to one user. */
  emailMaxFrequencySeconds: number;
  otpLength: number;
  otpExpirySeconds: number;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const SYMBOLS = "!@#$%^&*()_+-=[]{};'\\:\"|<>?,./`~";

/** The Supabase CLI's names for password_requirements, as GoTrue's required character sets. */
const PASSWORD_REQUIREMENTS: Record<string, string[]> = {
  '': [],
  letters_digits: [LETTERS, DIGITS],
  lower_upper_letters_digits: [LOWER, UPPER, DIGITS],
  lower_upper_letters_digits_symbols: [LOWER, UPPER, DIGITS, SYMBOLS],
};

/** The Supabase CLI's default site URL, used when SUPABASE_AUTH_SITE_URL is not set. */
export const DEFAULT_SITE_URL = 'http://127.0.0.1:3000';

/** Go duration strings as config.toml writes them ("60s", "1m30s", "1h"), in seconds. */
export function durationSeconds(value: string): number {
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== value) throw new Error(`not a duration: "${value}" (expected e.g. 60s or 1m30s)`);
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2]!]!, 0);
}

/** A config.toml string with env(NAME) resolved; undefined when NAME is not set. */
function resolveEnv(value: unknown, env: NodeJS.ProcessEnv): string | undefined {
  if (typeof value !== 'string') return undefined;
  const reference = /^env\(([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(value.trim());
  if (!reference) return value;
  return env[reference[1]!] || undefined;
}

interface AuthToml {
  site_url?: unknown;
  additional_redirect_urls?: unknown[];
  jwt_expiry?: number;
  enable_signup?: boolean;
  enable_refresh_token_rotation?: boolean;
  refresh_token_reuse_interval?: number;
  minimum_password_length?: number;
  password_requirements?: string;
  email?: {
    enable_confirmations?: boolean;
    double_confirm_changes?: boolean;
    secure_password_change?: boolean;
    require_current_password?: boolean;
    max_frequency?: string;
    otp_length?: number;
    otp_expiry?: number;
  };
}

/** The settings config.toml's text describes; defaults are the Supabase CLI's where it says nothing. */
export function authSettingsFromToml(text: string, env: NodeJS.ProcessEnv = process.env): AuthSettings {
  const auth = ((parseToml(text) as { auth?: AuthToml }).auth ?? {}) as AuthToml;
  const email = auth.email ?? {};
  const requirement = auth.password_requirements ?? '';
  const required = PASSWORD_REQUIREMENTS[requirement];
  if (!required) throw new Error(`supabase/config.toml: password_requirements = "${requirement}" is not one of ${Object.keys(PASSWORD_REQUIREMENTS).filter(Boolean).join(', ')}`);
  return {
    siteUrl: resolveEnv(auth.site_url, env) ?? DEFAULT_SITE_URL,
    redirectAllowList: (auth.additional_redirect_urls ?? []).map((u) => resolveEnv(u, env)).filter((u): u is string => Boolean(u)),
    jwtExpirySeconds: auth.jwt_expiry ?? 3600,
    signupEnabled: auth.enable_signup ?? true,
    confirmEmail: email.enable_confirmations ?? false,
    refreshTokenRotation: auth.enable_refresh_token_rotation ?? true,
    refreshTokenReuseIntervalSeconds: auth.refresh_token_reuse_interval ?? 10,
    minimumPasswordLength: auth.minimum_password_length ?? 6,
    passwordRequiredCharacters: required,
    secureEmailChange: email.double_confirm_changes ?? true,
    securePasswordChange: email.secure_password_change ?? false,
    requireCurrentPassword: email.require_current_password ?? false,
    emailMaxFrequencySeconds: durationSeconds(email.max_frequency ?? '1s'),
    otpLength: email.otp_length ?? 6,
    otpExpirySeconds: email.otp_expiry ?? 3600,
  };
}
