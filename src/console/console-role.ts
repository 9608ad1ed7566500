// `apogee console -n namesrv[;…]`: the web console as a role of its own, for a cluster. Also the
// rule every console follows for where it listens: without a login it binds loopback only.
import type { Logger } from '../common/logger.js';
import type { ConsoleConfig, RoleHandle } from '../config/index.js';
import { mountConsole, type ConsoleApp } from './console-app.js';
import type { ConsoleLogin } from './console-auth.js';
import { startHttpServer } from './http-server.js';

export type ConsoleAccess = 'login' | 'loopback-only';

/** The login from the config keys (both set), else undefined. */
export function consoleLoginOf(c: { consoleUser: string; consolePassword: string }): ConsoleLogin | undefined {
  return c.consoleUser !== '' && c.consolePassword !== '' ? { user: c.consoleUser, password: c.consolePassword } : undefined;
}

/**
 * Where the console listens: the configured host with a login; without one, a wildcard host
 * becomes 127.0.0.1 (a specific address the operator chose stays, and must be a loopback one to be safe).
 */
export function consoleBinding(host: string, login: ConsoleLogin | undefined, aclLogin = false): { host: string; access: ConsoleAccess } {
  if (login || aclLogin) return { host, access: 'login' };
  return { host: host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host, access: 'loopback-only' };
}

/** Ready-line entries of a console listening at addr ("host:port"). */
export function consoleAddresses(addr: string, access: ConsoleAccess): Record<string, string> {
  return { http: addr, console: `http://${addr}/`, consoleAccess: access };
}

export async function startConsoleRole(config: ConsoleConfig, ctx: { logger: Logger }): Promise<RoleHandle & { app: ConsoleApp }> {
  const login = consoleLoginOf(config);
  const bind = consoleBinding(config.host, login, config.consoleAclLogin);
  if (bind.access === 'loopback-only') ctx.logger.warn('no consoleUser/consolePassword: the console listens on loopback only');
  let app: ConsoleApp | undefined;
  try {
    const http = await startHttpServer({
      host: bind.host,
      port: config.httpPort,
      logger: ctx.logger,
      setup: async (f) => {
        app = await mountConsole(f, { namesrvAddr: config.namesrvAddr, login, acl: config.consoleAclLogin, sampleIntervalMs: config.consoleSampleIntervalMs, logger: ctx.logger });
      },
    });
    const mounted = app!;
    return {
      app: mounted,
      addresses: consoleAddresses(http.address, bind.access),
      close: async () => {
        await http.close();
        await mounted.close();
      },
    };
  } catch (err) {
    await app?.close();
    throw err;
  }
}
