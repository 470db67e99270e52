/**
 * Structured logs through pino: one JSON object per line, or pino-pretty's readable lines under
 * `npm start` (LOG_FORMAT=pretty). Callers mask phone numbers and never pass message text; as a
 * safety net every serialized line also goes through maskPhoneNumbersIn before it is written.
 */
import { Writable } from 'node:stream';

import pino from 'pino';
import pinoPretty from 'pino-pretty';

import { maskPhoneNumbersIn } from './domain/redact';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Where lines go: a function receiving each masked line (tests), else stdout in the given format. */
export interface LoggerOutput {
  write?: (line: string) => void;
  format?: LogFormat;
}

/**
 * A logger at `level` whose lines carry `base`. Lines are written synchronously, so nothing is
 * lost when a process exits right after logging its fatal error.
 */
export function createLogger(
  level: LogLevel = 'info',
  base: Record<string, unknown> = {},
  output: LoggerOutput | ((line: string) => void) = {},
): Logger {
  const { write, format = 'json' } = typeof output === 'function' ? { write: output } : output;
  const lines = write
    ? new Writable({
        write: (chunk: Buffer, _encoding, done) => (write(chunk.toString('utf8').replace(/\n$/, '')), done()),
      })
    : undefined;
  const destination =
    format === 'pretty'
      ? pinoPretty({
          destination: lines ?? 1,
          sync: true,
          colorize: !lines && process.stdout.isTTY,
          singleLine: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
        })
      : (lines ?? pino.destination({ dest: 1, sync: true }));
  const root = pino(
    {
      level,
      base,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: { streamWrite: maskPhoneNumbersIn },
    },
    destination,
  );
  return wrap(root);
}

function wrap(instance: pino.Logger): Logger {
  return {
    debug: (msg, fields) => instance.debug(fields ?? {}, msg),
    info: (msg, fields) => instance.info(fields ?? {}, msg),
    warn: (msg, fields) => instance.warn(fields ?? {}, msg),
    error: (msg, fields) => instance.error(fields ?? {}, msg),
    child: (fields) => wrap(instance.child(fields)),
  };
}

/** A logger that drops everything (tests that don't look at logs). */
export const silentLogger: Logger = createLogger('error', {}, () => undefined);
