// One logging library everywhere (pino): structured JSON lines to stderr so stdout stays
// free for the CLI's own output (the ready line, admin tables).
import { pino, type Logger } from 'pino';

export type { Logger };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(level: LogLevel = 'info', name = 'apogee'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything: the default for in-process servers started by tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
