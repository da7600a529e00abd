// The one typed schema of production configuration. env/production.env.example is checked
// against it by a test, so every variable here is documented there and nowhere else.

export interface VarSpec {
  readonly name: string;
  /** One line: what it is and where to find it. Printed in the example file and in errors. */
  readonly description: string;
  /** A valid placeholder for the example file; empty for secrets. */
  readonly example: string;
  readonly secret?: boolean;
  readonly default?: string;
  /** Returns what is wrong with a value and how to fix it, or null when it is fine. */
  readonly check?: (value: string) => string | null;
}

const pattern =
  (re: RegExp, expected: string) =>
  (value: string): string | null =>
    re.test(value) ? null : `expected ${expected}`;

function httpsUrl(value: string): string | null {
  try {
    return new URL(value).protocol === 'https:' ? null : 'expected an https:// URL';
  } catch {
    return 'expected an https:// URL such as https://app.mindmirror.example';
  }
}

export const PRODUCTION_VARS: readonly VarSpec[] = [
  {
    name: 'PROJECT_ID',
    description: 'Google Cloud project id that hosts production (the id, not the display name).',
    example: 'mindmirror-prod',
    check: pattern(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a project id: 6-30 lowercase letters, digits or hyphens, starting with a letter'),
  },
  {
    name: 'REGION',
    description: 'Region for Cloud Run, Memorystore and Artifact Registry.',
    example: 'us-central1',
    default: 'us-central1',
    check: pattern(/^[a-z]+-[a-z]+[0-9]+$/, 'a region such as us-central1 or europe-west1'),
  },
  {
    name: 'STATE_BUCKET',
    description: 'GCS bucket that holds OpenTofu state (created by make production-bootstrap; versioning on).',
    example: 'mindmirror-prod-tfstate',
    check: pattern(/^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$/, 'a bucket name without the gs:// prefix: 3-63 lowercase letters, digits, dots, hyphens or underscores'),
  },
  {
    name: 'STATE_PREFIX',
    description: 'Folder inside STATE_BUCKET for this environment\'s state.',
    example: 'mindmirror/production',
    default: 'mindmirror/production',
    // No "." or ".." part: the prefix also names the local folder of this environment's backups.
    check: (v) =>
      /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(v) && !v.split('/').some((part) => part === '.' || part === '..')
        ? null
        : 'expected a path without leading or trailing slashes and without . or .. parts, e.g. mindmirror/production',
  },
  {
    name: 'SUPABASE_PROJECT_REF',
    description: 'Reference of the dedicated production Supabase project (Dashboard > Project Settings > General).',
    example: 'abcdefghijklmnopqrst',
    check: pattern(/^[a-z]{20}$/, 'the 20 lowercase letters of the project reference'),
  },
  {
    name: 'SUPABASE_DB_URL',
    description:
      'Postgres URL of the production Supabase database WITHOUT the password (Dashboard > Connect > Session pooler); the password is SUPABASE_DB_PASSWORD.',
    example: 'postgresql://postgres.abcdefghijklmnopqrst@aws-0-us-east-1.pooler.supabase.com:5432/postgres',
    check: (value) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return 'expected a URL such as postgresql://postgres.<ref>@<host>:5432/postgres';
      }
      if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') return 'expected a postgresql:// URL';
      // A password in the URL would end up on a command line; it travels as PGPASSWORD instead.
      if (url.password) return 'remove the password from the URL and put it in SUPABASE_DB_PASSWORD';
      // libpq reads it from the query string too (password=, or a passfile to read it from).
      for (const key of ['password', 'passfile', 'sslpassword']) {
        if (url.searchParams.has(key)) return `remove ${key}= from the URL's query string and put the password in SUPABASE_DB_PASSWORD`;
      }
      return null;
    },
  },
  {
    name: 'SUPABASE_ACCESS_TOKEN',
    description: 'Supabase personal access token for the CLI (Dashboard > Account > Access Tokens). Secret.',
    example: '',
    secret: true,
    check: pattern(/^sbp_(oauth_)?[a-f0-9]{40}$/, 'a token that starts with sbp_ followed by 40 hex characters'),
  },
  {
    name: 'SUPABASE_DB_PASSWORD',
    description: 'Database password of the production Supabase project, used by `supabase db push`. Secret.',
    example: '',
    secret: true,
    check: (value) => (value.length >= 12 ? null : 'expected at least 12 characters'),
  },
  {
    name: 'SUPABASE_AUTH_SITE_URL',
    description: 'Where confirmation and sign-in mails send users back to (auth site_url in supabase/config.toml).',
    example: 'https://app.mindmirror.example',
    check: httpsUrl,
  },
  {
    name: 'SUPABASE_AUTH_ADDITIONAL_REDIRECT_URL',
    description: 'One more exact URL auth may redirect to (additional_redirect_urls in supabase/config.toml).',
    example: 'https://app.mindmirror.example/auth/callback',
    check: httpsUrl,
  },
  {
    name: 'DATABASE_MODE',
    description:
      "Where the application databases live: cloudsql (production's own Cloud SQL instance; OpenTofu writes each service's URL) or external (elsewhere; make production-secrets asks a person for each database's URL).",
    example: 'cloudsql',
    default: 'cloudsql',
    check: (v) => (v === 'cloudsql' || v === 'external' ? null : 'expected cloudsql or external'),
  },
  {
    name: 'IMAGE_TAG',
    description: 'Container image tag to deploy (a release tag such as v1.4.0, or a commit SHA).',
    example: 'v0.1.0',
    check: pattern(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'a container tag: letters, digits, _, . or -, at most 128 characters'),
  },
];
