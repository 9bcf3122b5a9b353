// pino JSON logs. Child loggers bind context (controller, namespace, name, reconcileId).
// Secret values never reach a log line: callers log references, never contents, and the
// redaction list below catches the usual field names as a second line of defence.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'bootplane',
      level: options.level ?? process.env.BOOTPLANE_LOG_LEVEL ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['password', 'token', 'tokenSecret', 'secret', '*.password', '*.token', '*.tokenSecret', '*.secret', 'headers.authorization', 'headers.Authorization'],
        censor: '[redacted]',
      },
    },
    options.destination ?? process.stdout,
  );
}

/** A logger that writes nothing, for unit tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
