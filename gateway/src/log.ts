// JSON lines in the shape Cloud Logging reads: `severity` and `message` are picked up as the
// entry's level and text, everything else lands in jsonPayload. The same Logger is handed to
// Hive Gateway, so its own logs come out in this shape too.

import { Logger, type Attributes, type LogLevel, type LogWriter } from '@graphql-hive/logger';
import { traceLogFields } from './trace-context.ts';

const SEVERITY: Record<LogLevel, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
};

// A last line of defence: whatever a library decides to log, a bearer credential or a JWT never
// reaches the log sink in readable form.
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer)\s+[^\s"',]+/gi;

export function scrubCredentials(text: string): string {
  return text.replace(JWT_LIKE, '[redacted token]').replace(BEARER, '$1 [redacted]');
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export type LogSink = (line: string) => void;

class CloudLoggingWriter implements LogWriter {
  constructor(
    private readonly sink: LogSink,
    private readonly base: Record<string, string>,
    private readonly traceProject: string | undefined,
  ) {}

  write(level: LogLevel, attrs: Attributes | null | undefined, msg: string | null | undefined): void {
    const fields = Array.isArray(attrs) ? { attrs } : (attrs ?? {});
    const entry = { ...fields, ...this.base, ...traceLogFields(this.traceProject), severity: SEVERITY[level], message: msg ?? '', time: new Date().toISOString() };
    let line: string;
    try {
      line = JSON.stringify(entry, replacer);
    } catch {
      line = JSON.stringify({ ...this.base, severity: SEVERITY[level], message: msg ?? '', time: entry.time });
    }
    this.sink(scrubCredentials(line) + '\n');
  }
}

export interface LoggerOptions {
  level: LogLevel;
  service: string;
  version: string;
  sink?: LogSink;
  /** GOOGLE_CLOUD_PROJECT: lines of a traced request then name its trace as Cloud Logging expects. */
  traceProject?: string;
}

export function createLogger(options: LoggerOptions): Logger {
  const sink = options.sink ?? ((line: string) => void process.stdout.write(line));
  return new Logger({
    level: options.level,
    writers: [new CloudLoggingWriter(sink, { service: options.service, version: options.version }, options.traceProject)],
  });
}
