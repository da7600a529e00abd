// Starts the benchmarked gateway (gateway-process.ts, compiled) in a process of its own, with the
// image's node arguments, and talks to it over IPC: what run.ts and allocations.ts both need, so
// both start the gateway the same way.

import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';

export interface GatewayChild {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Sends one of gateway-process.ts's messages and resolves with its answer. */
  ask<T>(message: 'sample' | 'collections' | 'allocated'): Promise<T>;
  /** SIGTERM: the gateway drains and exits. */
  stop(): Promise<void>;
}

export interface GatewayChildOptions {
  /** The compiled gateway-process.ts. */
  bundle: string;
  /** Node's arguments before the bundle (the image's, and any more). */
  nodeArguments: string[];
  /** GatewayOptions, as JSON for the process's first argument. */
  options: Record<string, unknown>;
  /** gateway-process.ts's own flags (--without-identity, --leave-out=...). */
  flags: string[];
  /** Wraps the command, e.g. to pin it to a core. */
  wrap?: (command: string[]) => [string, string[]];
  cwd?: string;
  /** A file the process's standard output is appended to (where V8's --trace-gc writes). */
  stdoutFile?: string;
}

// A failed run must not leave gateways behind to disturb the next one.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startGatewayChild(settings: GatewayChildOptions): Promise<GatewayChild> {
  const command = [process.execPath, '--expose-gc', ...settings.nodeArguments, settings.bundle, JSON.stringify(settings.options), ...settings.flags];
  const [file, rest] = settings.wrap ? settings.wrap(command) : [command[0]!, command.slice(1)];
  const child = spawn(file, rest, { cwd: settings.cwd, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (settings.stdoutFile) child.stdout!.on('data', (d: Buffer) => appendFileSync(settings.stdoutFile!, d));
  const [url, pid] = await new Promise<[string, number]>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const ready = /READY (\S+) (\d+)/.exec(out);
      if (ready) resolve([ready[1]!, Number(ready[2])]);
    });
    child.once('exit', (code) => reject(new Error(`gateway process exited with ${code}`)));
  });
  return {
    url,
    pid,
    child,
    ask: <T>(message: string) =>
      new Promise<T>((resolve) => {
        child.once('message', (m) => resolve(m as T));
        child.send(message);
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
