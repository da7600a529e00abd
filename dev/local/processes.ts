// Whether a process the stack started still runs.

import { existsSync, readFileSync } from 'node:fs';

/**
 * True while the process runs. A part that has exited stays a zombie until init reaps it, which
 * some inits do only every few seconds; signal 0 still reaches a zombie, so on Linux /proc says
 * whether it has exited.
 */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    // Gone between the two checks on Linux; elsewhere there is no /proc and signal 0 must do.
    return !existsSync('/proc/self');
  }
}
