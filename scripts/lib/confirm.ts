// Destructive steps ask first. --yes, YES=1 or CI=true answer for the person; without a
// terminal and without one of those, the run stops with an explanation instead of waiting
// for an answer that can never come.

import { createInterface } from 'node:readline/promises';

export type Confirmation =
  | { proceed: true; how: 'assumed' | 'answered' }
  | { proceed: false; reason: 'declined' | 'no-terminal' };

export function preApproved(env: NodeJS.ProcessEnv, yesFlag: boolean): boolean {
  return yesFlag || isTrue(env.YES) || env.CI === 'true';
}

export function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|y)$/i.test(value.trim());
}

export async function confirm(
  question: string,
  opts: { env: NodeJS.ProcessEnv; yes: boolean; input?: NodeJS.ReadableStream & { isTTY?: boolean }; output?: NodeJS.WritableStream },
): Promise<Confirmation> {
  if (preApproved(opts.env, opts.yes)) return { proceed: true, how: 'assumed' };
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stderr;
  if (!input.isTTY) return { proceed: false, reason: 'no-terminal' };
  const rl = createInterface({ input, output });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return isTrue(answer) ? { proceed: true, how: 'answered' } : { proceed: false, reason: 'declined' };
  } finally {
    rl.close();
  }
}

/**
 * Ask for a secret without echoing it. Returns null when there is no terminal to ask on.
 * The answer never reaches the screen, the log or the shell history.
 */
export async function askHidden(
  question: string,
  opts: { input?: NodeJS.ReadableStream & { isTTY?: boolean }; output?: NodeJS.WritableStream } = {},
): Promise<string | null> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stderr;
  if (!input.isTTY) return null;
  output.write(question);
  let muted = true;
  const rl = createInterface({
    input,
    output: new (await import('node:stream')).Writable({
      write(chunk, _encoding, done) {
        if (!muted) output.write(chunk);
        done();
      },
    }),
    terminal: true,
  });
  try {
    const answer = await rl.question('');
    muted = false;
    output.write('\n');
    return answer;
  } finally {
    rl.close();
  }
}

/** Ask a plain question; null when there is no terminal to ask on. */
export async function ask(question: string, opts: { input?: NodeJS.ReadableStream & { isTTY?: boolean }; output?: NodeJS.WritableStream } = {}): Promise<string | null> {
  const input = opts.input ?? process.stdin;
  if (!input.isTTY) return null;
  const rl = createInterface({ input, output: opts.output ?? process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}
