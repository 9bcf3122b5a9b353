// pino JSON logs. Child loggers bind context (controller, namespace, name, reconcileId).
// Secret values never reach a log line: callers log references, never contents, and the
// redaction list below catches the usual field names as a second line of defence.
import { pino, type Logger } from 'pino';
import { BatchedLineDestination } from './log-destination.js';

export type { Logger };

let lastMs = -1;
let lastTime = '';

/** pino's isoTime, formatted once per millisecond: a busy boot server logs many lines per ms. */
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/**
 * destination: a stream to write to; without it, lines go to `file` (a file descriptor or
 * path, default 1: stdout) through BatchedLineDestination.
 */
export function createLogger(options: { level?: string; name?: string; destination?: NodeJS.WritableStream; file?: number | string } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'bootplane',
      level: options.level ?? process.env.BOOTPLANE_LOG_LEVEL ?? 'info',
      base: { pid: process.pid },
      timestamp: isoTime,
      redact: {
        paths: ['password', 'token', 'tokenSecret', 'secret', '*.password', '*.token', '*.tokenSecret', '*.secret', 'headers.authorization', 'headers.Authorization'],
        censor: '[redacted]',
      },
    },
    options.destination ?? new BatchedLineDestination(options.file ?? 1),
  );
}

/** A logger that writes nothing, for unit tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
