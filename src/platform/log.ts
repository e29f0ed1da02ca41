import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** JSON lines (true) or human-readable text (false). Default: human-readable on a TTY, JSON otherwise. */
  json?: boolean;
  name?: string;
  /** Destination file descriptor (default 1 = stdout). */
  fd?: number;
}

const require = createRequire(import.meta.url);

/** The process logger: pino, JSON or pretty-printed (pino-pretty as a synchronous stream, no worker thread). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const fd = opts.fd ?? 1;
  const json = opts.json ?? !process.stdout.isTTY;
  const base = { level: opts.level ?? 'info', name: opts.name, base: { pid: process.pid } };
  if (json) return pino(base, pino.destination({ fd, sync: false }));
  const pinoPretty = require('pino-pretty') as (o: Record<string, unknown>) => NodeJS.WritableStream;
  const stream = pinoPretty({
    destination: fd,
    sync: true,
    colorize: fd === 1 ? Boolean(process.stdout.isTTY) : false,
    ignore: 'pid,hostname',
    translateTime: 'SYS:HH:MM:ss.l',
  });
  return pino(base, stream);
}
