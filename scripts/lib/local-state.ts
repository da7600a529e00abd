// What the scripts read from the local stack's directory (LOCAL_DIR, default .local/), so a
// make target can tell which stack it is about before it touches anything:
//   stack.json    the settings dev/local/stack.ts fixed at the first start, among them the port
//                 base, which is how a re-run without LOCAL_PORT_BASE keeps the stack's ports;
//   pids/         which parts run;
//   outputs.json  where the checks point, and "state": "stopped" once make local-down ran.
// The parts, their ports and the process check come from dev/local's dependency-free modules
// (the runbook tests' copy of the repository holds those two files, not the rest of dev/);
// test/local/local-state.test.ts keeps the directory layout equal to dev/local/layout.ts's.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { COMPONENTS, PORT_OFFSETS, type Component } from '../../dev/local/parts.ts';
import { processRuns } from '../../dev/local/processes.ts';
import { shellQuote } from './command.ts';
import { repoRoot } from './paths.ts';

/** The parts, in start order. */
export const LOCAL_PARTS = COMPONENTS;
export type LocalPart = Component;
export { PORT_OFFSETS };

/** One local stack's directory, found as dev/local/layout.ts finds it. */
export class LocalStackDir {
  readonly dir: string;
  constructor(localDir: string | undefined) {
    const given = localDir || '.local';
    this.dir = isAbsolute(given) ? given : join(repoRoot, given);
  }
  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }
  pidFile(part: LocalPart): string {
    return this.path('pids', `${part}.pid`);
  }
  /** The port base stack.json holds: the one the stack was last started on. */
  savedPortBase(): number | undefined {
    const file = this.path('stack.json');
    if (!existsSync(file)) return undefined;
    const base = (JSON.parse(readFileSync(file, 'utf8')) as { portBase?: unknown }).portBase;
    return typeof base === 'number' ? base : undefined;
  }
}

export const DEFAULT_PORT_BASE = 4000;
/** The parts take the base and the six ports after it (layout.ts's offsets 0 to 6). */
export const PORTS_PER_STACK = 7;

export function portBaseProblem(value: string): string | null {
  return /^\d+$/.test(value) && Number(value) >= 1024 && Number(value) <= 65536 - PORTS_PER_STACK + 1
    ? null
    : `expected a port between 1024 and ${65536 - PORTS_PER_STACK + 1}`;
}

/** `make <target>` as the person should type it, with LOCAL_DIR when theirs is not the default. */
export const makeLine = (target: string, localDir: string | undefined): string => `make ${target}${localDir ? ` LOCAL_DIR=${shellQuote(localDir)}` : ''}`;

/** The parts whose pid file names a process that still runs. */
export function runningParts(layout: LocalStackDir): LocalPart[] {
  return LOCAL_PARTS.filter((c) => {
    const file = layout.pidFile(c);
    if (!existsSync(file)) return false;
    const pid = Number(readFileSync(file, 'utf8').trim().split(' ')[0]);
    return Number.isInteger(pid) && pid > 0 && processRuns(pid);
  });
}

/** Raised when LOCAL_PORT_BASE would move a running stack: bad input, exit 2. */
export class PortBaseConflict extends Error {}

/**
 * The port base the parts start on: LOCAL_PORT_BASE when given, else the one the stack was set
 * up with, else 4000. Without the middle case a plain `make local-up` would restart every part of
 * a stack set up on other ports on 4000 (stack.ts restarts a part whose settings changed). A
 * LOCAL_PORT_BASE that differs while the stack runs is refused rather than followed: moving a
 * running stack is make local-down's job first, and a typo should not restart everything.
 */
export function choosePortBase(layout: LocalStackDir, given: string | undefined, localDir: string | undefined): number {
  const remembered = layout.savedPortBase();
  if (given) {
    const problem = portBaseProblem(given);
    if (problem) throw new PortBaseConflict(`LOCAL_PORT_BASE=${given} is not valid: ${problem}`);
    const running = runningParts(layout);
    if (remembered !== undefined && Number(given) !== remembered && running.length) {
      throw new PortBaseConflict(
        `LOCAL_PORT_BASE=${given} differs from the port base the running local stack was set up with (${remembered}; running: ${running.join(', ')}). ` +
          `To move it to ${given}, stop it first with \`${makeLine('local-down', localDir)}\`, then run this again; to keep ${remembered}, leave LOCAL_PORT_BASE out.`,
      );
    }
    return Number(given);
  }
  return remembered ?? DEFAULT_PORT_BASE;
}

/** A port one part listens on, named as a person knows it. */
export interface PartPort {
  what: string;
  port: number;
}

const portsOf = (base: number, c: LocalPart): PartPort[] => {
  // The gateway has two listeners: the public one and Prometheus /metrics (METRICS_PORT), which
  // stack.ts does not check before it starts the gateway; a taken one only showed as a gateway
  // that never got healthy, a minute later.
  return c === 'gateway'
    ? [
        { what: 'gateway', port: base + PORT_OFFSETS.gateway },
        { what: 'gateway metrics', port: base + PORT_OFFSETS.gatewayMetrics },
      ]
    : [{ what: c, port: base + PORT_OFFSETS[c] }];
};

/**
 * The ports the parts that do not run yet will listen on. A running part holds its own ports; an
 * external database (DATABASE_URL) takes none here.
 */
export function portsToStart(base: number, running: readonly LocalPart[], externalDatabase: boolean): PartPort[] {
  return LOCAL_PARTS.filter((c) => !running.includes(c) && !(c === 'database' && externalDatabase)).flatMap((c) => portsOf(base, c));
}

/** The gateway's Prometheus endpoint, for the status summary. */
export const metricsUrlOf = (base: number): string => `http://127.0.0.1:${base + PORT_OFFSETS.gatewayMetrics}/metrics`;

/** Those of `ports` something already listens on (on 127.0.0.1, where the parts listen). */
export async function takenPorts(ports: readonly PartPort[]): Promise<PartPort[]> {
  const taken = await Promise.all(ports.map(async (p) => ((await answersTcp(p.port)) ? p : null)));
  return taken.filter((p): p is PartPort => p !== null);
}

function answersTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2_000, () => (socket.destroy(), resolve(false)));
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/**
 * Why nothing answers HTTP at `url` ("connection refused", "no answer within 3 s"), or null when
 * something does, whatever its status: the question is whether the part is there at all, so a
 * check can say that instead of fetch's bare "fetch failed".
 */
export async function whyNoAnswer(url: string, timeoutMs = 3_000): Promise<string | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await response.body?.cancel();
    return null;
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const known: Record<string, string> = { ECONNREFUSED: 'connection refused', ECONNRESET: 'connection reset', ENOTFOUND: 'host not found', EHOSTUNREACH: 'host unreachable' };
    return (cause?.code && known[cause.code]) || cause?.code || cause?.message || (error as Error).message;
  }
}

/** outputs.json as the checks read it; null when the stack never wrote one. */
export function readOutputs(layout: LocalStackDir): Record<string, unknown> | null {
  const file = layout.path('outputs.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : null;
}

/** When make local-down stopped the stack, or null. The next make local-up rewrites outputs.json without it. */
export function stoppedAt(outputs: Record<string, unknown> | null): string | null {
  return outputs?.state === 'stopped' ? String(outputs.stoppedAt ?? 'an unknown time') : null;
}

/**
 * Mark outputs.json stopped (state and when), so the checks and make local-status can say the
 * stack was stopped instead of failing to connect. False when there is no outputs.json to mark.
 */
export function markStopped(layout: LocalStackDir, now = new Date()): boolean {
  const outputs = readOutputs(layout);
  if (!outputs) return false;
  const marked = { ...outputs, state: 'stopped', stoppedAt: now.toISOString() };
  writeFileSync(layout.path('outputs.json'), `${JSON.stringify(marked, null, 2)}\n`, { mode: 0o600 });
  return true;
}
