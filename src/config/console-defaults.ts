import { checkAddrList, checkNonEmpty } from './checks.js';
import type { ConfigOf, ConfigSchema } from './schema.js';

/**
 * Web console login: both set = a login page and a session cookie guard the pages and /api/;
 * both empty = no login, and standalone then binds its HTTP listener to loopback only.
 */
export const CONSOLE_LOGIN_KEYS = {
  consoleUser: { type: 'string', default: '', doc: 'web console user; empty (with consolePassword) = no login, loopback only in standalone' },
  consolePassword: { type: 'string', default: '', doc: 'web console password, compared in constant time; set together with consoleUser' },
  consoleSampleIntervalMs: {
    type: 'int',
    default: 5000,
    min: 200,
    max: 600000,
    doc: 'ms between the console’s samples of cluster send/receive rates (TPS charts keep 360 samples)',
  },
} as const satisfies ConfigSchema;

/** `apogee console -n namesrv[;…]`: the web console and its JSON API for a whole cluster. */
export const CONSOLE_DEFAULTS = {
  namesrvAddr: { type: 'string', default: '127.0.0.1:9876', check: (v: string) => checkNonEmpty(v) ?? checkAddrList(v), doc: 'name servers, "host:port;host:port"' },
  host: { type: 'string', default: '0.0.0.0', check: checkNonEmpty, doc: 'bind address' },
  httpPort: { type: 'int', default: 8080, min: 0, max: 65535, doc: 'console HTTP port; 0 picks a free port' },
  ...CONSOLE_LOGIN_KEYS,
  consoleAclLogin: {
    type: 'bool',
    default: false,
    doc: "the cluster's brokers check ACL (aclEnable): their admin accounts log in (accessKey/secretKey) and the console signs its requests with them (standalone: follows its aclEnable)",
  },
} as const satisfies ConfigSchema;

export type ConsoleConfig = ConfigOf<typeof CONSOLE_DEFAULTS>;

/** The console's login keys: both or neither; returns a problem sentence or undefined. */
export function consoleLoginProblem(c: { consoleUser: string; consolePassword: string }): string | undefined {
  if ((c.consoleUser === '') !== (c.consolePassword === '')) return 'consoleUser and consolePassword must be set together (or both left empty)';
  return undefined;
}
