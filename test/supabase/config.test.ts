// supabase/config.toml keeps the security decisions of the production project: 24 h JWTs,
// email confirmation, redirect URLs from the environment, deliberate rate limits, nothing
// paid or unused switched on, no secret in the file, and every such setting written out.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'smol-toml';
import { repoRoot } from '../helpers/process.ts';

type Table = Record<string, unknown>;

const configText = readFileSync(join(repoRoot, 'supabase', 'config.toml'), 'utf8');

function at(config: Table, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Table)[key] : undefined), config);
}

// Settings that must be written out, whatever their value, so an upstream default cannot
// change production.
const EXPLICIT = [
  'api.schemas', 'api.max_rows', 'api.auto_expose_new_tables', 'db.seed.enabled', 'db.ssl_enforcement.enabled',
  'auth.site_url', 'auth.additional_redirect_urls', 'auth.jwt_expiry', 'auth.enable_signup', 'auth.enable_anonymous_sign_ins',
  'auth.enable_manual_linking', 'auth.enable_refresh_token_rotation', 'auth.refresh_token_reuse_interval',
  'auth.minimum_password_length', 'auth.password_requirements',
  'auth.email.enabled', 'auth.email.enable_confirmations', 'auth.email.double_confirm_changes', 'auth.email.secure_password_change',
  'auth.email.max_frequency', 'auth.email.otp_length', 'auth.email.otp_expiry',
  'auth.email.require_current_password', 'auth.mfa.totp.verify_enabled',
  'auth.sms.enabled', 'auth.mfa.totp.enroll_enabled', 'auth.mfa.phone.enroll_enabled', 'auth.mfa.phone.verify_enabled',
  'auth.web3.solana.enabled', 'auth.oauth_server.enabled',
];

const RATE_LIMITS = ['email_sent', 'sms_sent', 'anonymous_users', 'token_refresh', 'sign_in_sign_ups', 'token_verifications', 'web3'];

const ENV_REFERENCE = /^env\([A-Z][A-Z0-9_]*\)$/;

function secretLikeValues(node: unknown, path: string[] = []): string[] {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return [];
  return Object.entries(node as Table).flatMap(([key, value]) => {
    const here = [...path, key];
    if (typeof value === 'string' && /(secret|password|pass|token|api_key)$/i.test(key) && value !== '' && !ENV_REFERENCE.test(value)) {
      return [`${here.join('.')}: a secret written into the file; use "env(NAME)"`];
    }
    return secretLikeValues(value, here);
  });
}

/** Every way the config departs from the production project's rules, all at once. */
function configProblems(config: Table): string[] {
  const problems: string[] = [];
  for (const path of EXPLICIT) if (at(config, path) === undefined) problems.push(`${path}: not set; write it out explicitly`);
  if (at(config, 'auth.jwt_expiry') !== 86400) problems.push('auth.jwt_expiry: must be 86400 (24 hours)');
  if (at(config, 'auth.email.enable_confirmations') !== true) problems.push('auth.email.enable_confirmations: must be true');
  const site = at(config, 'auth.site_url');
  if (typeof site !== 'string' || !ENV_REFERENCE.test(site)) problems.push('auth.site_url: must come from the environment, "env(NAME)"');
  const redirects = at(config, 'auth.additional_redirect_urls');
  if (!Array.isArray(redirects) || redirects.length === 0 || !redirects.every((r) => typeof r === 'string' && ENV_REFERENCE.test(r))) {
    problems.push('auth.additional_redirect_urls: every entry must come from the environment, "env(NAME)"');
  }
  for (const limit of RATE_LIMITS) {
    const value = at(config, `auth.rate_limit.${limit}`);
    if (!Number.isInteger(value) || (value as number) <= 0) problems.push(`auth.rate_limit.${limit}: set a positive limit on purpose`);
  }
  if (at(config, 'auth.enable_anonymous_sign_ins') !== false) problems.push('auth.enable_anonymous_sign_ins: must be false');
  if (at(config, 'auth.sms.enabled') !== false) problems.push('auth.sms.enabled: must be false (no SMS provider)');
  if (at(config, 'auth.mfa.phone.enroll_enabled') !== false || at(config, 'auth.mfa.phone.verify_enabled') !== false) {
    problems.push('auth.mfa.phone: must stay off (a paid add-on)');
  }
  if (at(config, 'auth.mfa.totp.enroll_enabled') !== true || at(config, 'auth.mfa.totp.verify_enabled') !== true) {
    problems.push('auth.mfa.totp: enrolment and verification must be on (free; users protect their account with an authenticator app)');
  }
  if (at(config, 'auth.email.secure_password_change') !== true || at(config, 'auth.email.require_current_password') !== true) {
    problems.push('auth.email: secure_password_change and require_current_password must both be true (a stolen session alone must not change the password)');
  }
  if (at(config, 'auth.enable_signup') !== false && at(config, 'auth.captcha.enabled') !== true) {
    problems.push('auth.enable_signup: open sign-up needs [auth.captcha] enabled (provider turnstile or hcaptcha, secret = "env(NAME)"), or keep it closed');
  }
  const captcha = at(config, 'auth.captcha') as Table | undefined;
  if (captcha?.enabled === true && (typeof captcha.secret !== 'string' || !ENV_REFERENCE.test(captcha.secret) || !['turnstile', 'hcaptcha'].includes(String(captcha.provider)))) {
    problems.push('auth.captcha: needs provider turnstile or hcaptcha and secret = "env(NAME)" (the secret kept in Secret Manager)');
  }
  if (at(config, 'db.seed.enabled') !== false) problems.push('db.seed.enabled: production is never seeded');
  const schemas = at(config, 'api.schemas');
  if (Array.isArray(schemas) && schemas.includes('private')) problems.push('api.schemas: private must not be exposed');
  if (Array.isArray(schemas) && schemas.includes('graphql_public')) problems.push('api.schemas: graphql_public must not be exposed (pg_graphql would describe every table to any signed-in user)');
  problems.push(...secretLikeValues(config));
  return problems;
}

test('config.toml follows every rule of the production project', () => {
  assert.deepEqual(configProblems(parse(configText) as Table), []);
});

test('a config that breaks the rules is reported in full, one line per problem', () => {
  const broken = parse(configText) as Table;
  const auth = broken.auth as Table;
  auth.jwt_expiry = 3600;
  auth.site_url = 'https://app.example.com';
  auth.additional_redirect_urls = ['env(SUPABASE_AUTH_ADDITIONAL_REDIRECT_URL)', 'http://localhost:3000'];
  auth.enable_anonymous_sign_ins = true;
  delete auth.minimum_password_length;
  (auth.email as Table).enable_confirmations = false;
  delete (auth.rate_limit as Table).sign_in_sign_ups;
  ((auth.mfa as Table).phone as Table).enroll_enabled = true;
  (broken.api as Table).schemas = ['public', 'private', 'graphql_public'];
  ((broken.db as Table).seed as Table).enabled = true;
  ((auth.mfa as Table).totp as Table).verify_enabled = false;
  auth.enable_signup = true;
  (auth.email as Table).require_current_password = false;
  (auth.external as Table).google = { enabled: true, client_id: 'x', secret: 'plain-text-secret' };

  assert.deepEqual(configProblems(broken), [
    'auth.minimum_password_length: not set; write it out explicitly',
    'auth.jwt_expiry: must be 86400 (24 hours)',
    'auth.email.enable_confirmations: must be true',
    'auth.site_url: must come from the environment, "env(NAME)"',
    'auth.additional_redirect_urls: every entry must come from the environment, "env(NAME)"',
    'auth.rate_limit.sign_in_sign_ups: set a positive limit on purpose',
    'auth.enable_anonymous_sign_ins: must be false',
    'auth.mfa.phone: must stay off (a paid add-on)',
    'auth.mfa.totp: enrolment and verification must be on (free; users protect their account with an authenticator app)',
    'auth.email: secure_password_change and require_current_password must both be true (a stolen session alone must not change the password)',
    'auth.enable_signup: open sign-up needs [auth.captcha] enabled (provider turnstile or hcaptcha, secret = "env(NAME)"), or keep it closed',
    'db.seed.enabled: production is never seeded',
    'api.schemas: private must not be exposed',
    'api.schemas: graphql_public must not be exposed (pg_graphql would describe every table to any signed-in user)',
    'auth.external.google.secret: a secret written into the file; use "env(NAME)"',
  ]);
});

test('open sign-up is accepted only behind a CAPTCHA whose secret comes from the environment', () => {
  const open = parse(configText) as Table;
  const auth = open.auth as Table;
  auth.enable_signup = true;
  auth.captcha = { enabled: true, provider: 'turnstile', secret: 'env(SUPABASE_AUTH_CAPTCHA_SECRET)' };
  assert.deepEqual(configProblems(open), []);
  auth.captcha = { enabled: true, provider: 'turnstile', secret: '0x4AAAAAAA-plain' };
  assert.ok(configProblems(open).some((p) => p.startsWith('auth.captcha: needs provider')));
});
