// Logging: pino, one JSON object per line on stdout (synchronous writes, so nothing is lost when
// the process exits right after a line). Every part of the main thread takes a child logger:
// `log.child({ part: 'listener' })`.
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/** A logger at `level`; `destination` is for tests (default: stdout). */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
