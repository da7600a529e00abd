// The local auth's settings come from supabase/config.toml as the Supabase CLI reads it, and its
// redirect and CORS rules are GoTrue's: these are the pieces the compatibility test relies on,
// checked on their own (config.toml's own values, env() references, durations, the password
// policies, the allow-list globs).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseToml } from 'smol-toml';
import { passwordWeakness } from '../../dev/auth/passwords.ts';
import { globToRegExp, isOriginAllowed, isRedirectAllowed, redirectFor } from '../../dev/auth/redirects.ts';
import { authSettingsFromToml, DEFAULT_SITE_URL, durationSeconds, type AuthSettings } from '../../dev/auth/settings.ts';
import { authSettings } from '../../dev/local/layout.ts';
import { repoRoot } from '../helpers/process.ts';

const configText = readFileSync(join(repoRoot, 'supabase', 'config.toml'), 'utf8');

test("the stack's settings are config.toml's [auth] section, as the local stack reads it", () => {
  const raw = (parseToml(configText) as { auth: Record<string, unknown> & { email: Record<string, unknown> } }).auth;
  const s = authSettings({});
  assert.equal(s.signupEnabled, raw.enable_signup);
  assert.equal(s.confirmEmail, raw.email.enable_confirmations);
  assert.equal(s.jwtExpirySeconds, raw.jwt_expiry);
  assert.equal(s.refreshTokenRotation, raw.enable_refresh_token_rotation);
  assert.equal(s.refreshTokenReuseIntervalSeconds, raw.refresh_token_reuse_interval);
  assert.equal(s.minimumPasswordLength, raw.minimum_password_length);
  assert.equal(s.secureEmailChange, raw.email.double_confirm_changes);
  assert.equal(s.securePasswordChange, raw.email.secure_password_change);
  assert.equal(s.requireCurrentPassword, raw.email.require_current_password);
  assert.equal(s.emailMaxFrequencySeconds, durationSeconds(String(raw.email.max_frequency)));
  assert.equal(s.otpLength, raw.email.otp_length);
  assert.equal(s.otpExpirySeconds, raw.email.otp_expiry);
  assert.equal(raw.password_requirements, 'letters_digits');
  assert.deepEqual(s.passwordRequiredCharacters, ['abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', '0123456789']);
});

test('env(NAME) values: taken from the environment; unset, the CLI default site URL and no extra redirect URL', () => {
  const unset = authSettingsFromToml(configText, {});
  assert.equal(unset.siteUrl, DEFAULT_SITE_URL);
  assert.deepEqual(unset.redirectAllowList, []);
  const set = authSettingsFromToml(configText, { SUPABASE_AUTH_SITE_URL: 'http://localhost:5173', SUPABASE_AUTH_ADDITIONAL_REDIRECT_URL: 'http://localhost:5173/auth/**' });
  assert.equal(set.siteUrl, 'http://localhost:5173');
  assert.deepEqual(set.redirectAllowList, ['http://localhost:5173/auth/**']);
});

test('durations and password requirements as the CLI writes them; anything else is refused', () => {
  assert.equal(durationSeconds('60s'), 60);
  assert.equal(durationSeconds('1m30s'), 90);
  assert.equal(durationSeconds('1h'), 3600);
  assert.equal(durationSeconds('500ms'), 0.5);
  assert.throws(() => durationSeconds('soon'), /not a duration/);
  assert.throws(() => durationSeconds('60'), /not a duration/);
  assert.throws(() => authSettingsFromToml('[auth]\npassword_requirements = "emoji"\n', {}), /password_requirements/);
  const upper = authSettingsFromToml('[auth]\npassword_requirements = "lower_upper_letters_digits"\nminimum_password_length = 8\n', {});
  assert.deepEqual(passwordWeakness(upper, 'abcdefg1')?.reasons, ['characters']);
  assert.equal(passwordWeakness(upper, 'abcdefG1'), null);
  assert.deepEqual(passwordWeakness(upper, 'aB1')?.reasons, ['length']);
  const defaults = authSettingsFromToml('', {});
  assert.equal(defaults.signupEnabled, true);
  assert.equal(defaults.minimumPasswordLength, 6);
});

const settings = (overrides: Partial<AuthSettings> = {}): AuthSettings => ({ ...authSettingsFromToml(configText, {}), siteUrl: 'https://app.example', redirectAllowList: [], ...overrides });

test("redirects: the site URL's host, loopback addresses and allow-list globs; anything else becomes the site URL", () => {
  const s = settings({ redirectAllowList: ['https://preview-*.app.example/**', 'https://app.example/exact'] });
  assert.equal(isRedirectAllowed(s, 'https://app.example/any/path?x=1'), true);
  assert.equal(isRedirectAllowed(s, 'http://app.example/'), false, 'another scheme');
  assert.equal(isRedirectAllowed(s, 'https://app.example:8443/'), false, 'another port');
  assert.equal(isRedirectAllowed(s, 'http://127.0.0.1:9999/cb'), true, 'loopback');
  assert.equal(isRedirectAllowed(s, 'http://2130706433/'), false, 'a decimal address (a browser reads it as 127.0.0.1)');
  assert.equal(isRedirectAllowed(s, 'http://0x7f.1/'), false, 'a hexadecimal one');
  assert.equal(isRedirectAllowed(s, 'http://[::1]:3000/cb'), true, 'IPv6 loopback');
  assert.equal(isRedirectAllowed(s, 'https://preview-42.app.example/deep/path'), true);
  assert.equal(isRedirectAllowed(s, 'https://preview-42.evil.example/'), false);
  assert.equal(isRedirectAllowed(s, 'https://evil.example/https://app.example/exact'), false);
  assert.equal(redirectFor(s, 'https://evil.example/'), 'https://app.example');
  assert.equal(redirectFor(s, null), 'https://app.example');
  const local = settings({ siteUrl: 'http://localhost:3000' });
  assert.equal(isRedirectAllowed(local, 'http://localhost:5173/cb'), true, 'any port on localhost');
  assert.equal(globToRegExp('https://*.example').test('https://a.b.example'), false, '* stops at dots');
  assert.equal(globToRegExp('https://**.example').test('https://a.b.example'), true);
});

test('CORS origins: the site URL and the allow list, nothing else', () => {
  const s = settings({ redirectAllowList: ['http://localhost:5173/**', 'https://preview-*.app.example/**'] });
  assert.equal(isOriginAllowed(s, 'https://app.example'), true);
  assert.equal(isOriginAllowed(s, 'http://localhost:5173'), true);
  assert.equal(isOriginAllowed(s, 'https://preview-7.app.example'), true);
  assert.equal(isOriginAllowed(s, 'http://localhost:5174'), false);
  assert.equal(isOriginAllowed(s, 'https://app.example.evil.example'), false);
  assert.equal(isOriginAllowed(s, 'null'), false);
});
