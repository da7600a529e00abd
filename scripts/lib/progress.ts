// What a person watching a runbook sees: one line per step with its elapsed time. On a
// terminal a spinner shows a long step is alive; in CI (no TTY) every line is plain and
// greppable, with a heartbeat so a slow step is not mistaken for a hung one.

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPINNER_AFTER_MS = 400;
const HEARTBEAT_EVERY_MS = 30_000;

export type StepStatus = 'ok' | 'fail' | 'skip' | 'warn';

export interface Output {
  write(text: string): void;
  isTTY: boolean;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms % 60_000) / 1000)
    .toString()
    .padStart(2, '0')}s`;
}

const MARKS: Record<StepStatus, { tty: string; plain: string }> = {
  ok: { tty: '\x1b[32m✔\x1b[0m', plain: 'ok  ' },
  fail: { tty: '\x1b[31m✘\x1b[0m', plain: 'FAIL' },
  skip: { tty: '\x1b[90m-\x1b[0m', plain: 'skip' },
  warn: { tty: '\x1b[33m!\x1b[0m', plain: 'warn' },
};

export class Progress {
  private timer: NodeJS.Timeout | null = null;
  private spinning = false;
  private frame = 0;
  private label = '';
  private started = 0;

  constructor(private readonly out: Output) {}

  start(label: string): void {
    this.stopTimer();
    this.label = label;
    this.started = performance.now();
    if (this.out.isTTY) {
      this.timer = setTimeout(() => {
        this.spinning = true;
        this.timer = setInterval(() => this.drawSpinner(), 100);
        this.drawSpinner();
      }, SPINNER_AFTER_MS);
    } else {
      this.timer = setInterval(() => {
        this.out.write(`...  ${this.label} still running (${formatDuration(performance.now() - this.started)})\n`);
      }, HEARTBEAT_EVERY_MS);
    }
    this.timer.unref();
  }

  /** Print text above the progress line without garbling the spinner. */
  print(text: string): void {
    this.clearLine();
    this.out.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  end(status: StepStatus, note = ''): number {
    const elapsed = performance.now() - this.started;
    this.stopTimer();
    this.clearLine();
    const mark = this.out.isTTY ? MARKS[status].tty : MARKS[status].plain;
    this.out.write(`${mark} ${this.label}  ${formatDuration(elapsed)}${note ? `  ${note}` : ''}\n`);
    return elapsed;
  }

  /** A finished line for one of several things running at once, under the current spinner. */
  report(status: StepStatus, label: string, elapsedMs: number, note = ''): void {
    this.clearLine();
    const mark = this.out.isTTY ? MARKS[status].tty : MARKS[status].plain;
    this.out.write(`${mark} ${label}  ${formatDuration(elapsedMs)}${note ? `  ${note}` : ''}\n`);
  }

  /** Raw output of a live command, under the spinner. */
  stream(text: string): void {
    this.clearLine();
    this.out.write(text);
  }

  /** Stop the spinner without printing a line of its own. */
  stop(): void {
    this.stopTimer();
  }

  private drawSpinner(): void {
    const f = FRAMES[this.frame++ % FRAMES.length];
    this.out.write(`\r\x1b[2K${f} ${this.label}  ${formatDuration(performance.now() - this.started)}`);
  }

  private clearLine(): void {
    if (this.spinning) this.out.write('\r\x1b[2K');
  }

  private stopTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      clearInterval(this.timer);
    }
    this.timer = null;
    this.clearLine();
    this.spinning = false;
  }
}
