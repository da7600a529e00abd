// Every byte the runbooks print or write passes through one Redactor, so a secret registered
// once (from the env file, a captured command, Secret Manager) is masked everywhere after.

const MIN_SECRET_LENGTH = 4; // shorter values ("1", "yes") would mask ordinary text

export class Redactor {
  private readonly needles = new Map<string, string>();
  private pattern: RegExp | null = null;

  /** Register a secret value; `label` names it in the mask so logs stay debuggable. */
  add(value: string | undefined | null, label = 'secret'): void {
    if (!value || value.length < MIN_SECRET_LENGTH) return;
    const forms = new Set<string>([value, value.trim()]);
    // The same value as it appears inside JSON output or a JSON-escaped log line.
    forms.add(JSON.stringify(value).slice(1, -1));
    // A multi-line secret (a key file) can leak one line at a time.
    for (const line of value.split(/\r?\n/)) if (line.trim().length >= 8) forms.add(line.trim());
    // Inside a URL (percent-encoded) or a base64 payload (a Secret Manager API answer, a header).
    for (const form of [...forms]) {
      forms.add(encodeURIComponent(form));
      forms.add(Buffer.from(form).toString('base64'));
      forms.add(Buffer.from(form).toString('base64url'));
      forms.add(Buffer.from(form).toString('base64').replace(/=+$/, ''));
    }
    for (const form of forms) if (form.length >= MIN_SECRET_LENGTH) this.needles.set(form, label);
    this.pattern = null;
  }

  get size(): number {
    return this.needles.size;
  }

  redact(text: string): string {
    if (this.needles.size === 0 || !text) return text;
    if (!this.pattern) {
      // Longest first, so a secret that contains another is masked whole.
      const sorted = [...this.needles.keys()].sort((a, b) => b.length - a.length);
      this.pattern = new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
    }
    return text.replace(this.pattern, (match) => `[redacted:${this.needles.get(match) ?? 'secret'}]`);
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The process-wide redactor used by the step engine and everything it prints or writes. */
export const redactor = new Redactor();

let guarded = false;

/**
 * Mask secrets in anything written to stdout/stderr, including output from libraries the
 * engine does not control (zx's own error printing, a stray console.log). The engine's own
 * output is already redacted; this is the net under it.
 */
export function guardProcessOutput(): void {
  if (guarded) return;
  guarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (typeof chunk === 'string') return write(redactor.redact(chunk), ...rest);
      if (chunk instanceof Uint8Array) return write(redactor.redact(Buffer.from(chunk).toString('utf8')), ...rest);
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
}
