import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.js';

/**
 * Structured JSON logs on stdout (journald picks them up). Paths that could ever carry a
 * secret are redacted as a second line of defence; the first is never logging them.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { svc: 'sqs-accelerator' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['secretAccessKey', '*.secretAccessKey', 'credentials', '*.credentials', 'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization', 'sessionToken', '*.sessionToken', 'password', '*.password'],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
