// Which function starts each role. Roles owned by later layers are loaded on demand, so the
// command works (and says what is missing) before those layers exist.
import type { Logger } from '../common/logger.js';
import {
  brokerConfigOf,
  namesrvConfigOf,
  type BrokerConfig,
  type ConfigFor,
  type ProxyConfig,
  type Role,
  type RoleHandle,
  type StandaloneConfig,
} from '../config/index.js';
import { startNamesrv } from '../namesrv/index.js';

export interface RoleContext {
  logger: Logger;
}

/** The broker layer's entry point (src/broker/index.ts). */
export interface BrokerModule {
  startBroker(config: BrokerConfig, opts: { logger?: Logger; standalone?: boolean }): Promise<RoleHandle>;
}

/** The proxy layer's entry point (src/proxy/index.ts). */
export interface ProxyModule {
  startProxy(config: ProxyConfig, opts: { logger?: Logger }): Promise<RoleHandle>;
}

/** A role whose code is not in this build yet; the command exits 2 with this message. */
export class RoleUnavailableError extends Error {
  constructor(role: string, options?: { cause?: unknown }) {
    super(`role ${role} is not available yet`, options);
    this.name = 'RoleUnavailableError';
  }
}

/**
 * Imports a sibling layer's index; only a missing index counts as "not available" (a broken
 * import inside an existing layer is a real error and is rethrown).
 */
async function loadLayer<T>(layer: string, role: string, exportName: string): Promise<T> {
  const url = new URL(`../${layer}/index.js`, import.meta.url);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url.href)) as Record<string, unknown>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const missingIndex = e.code === 'ERR_MODULE_NOT_FOUND' && new RegExp(`[/\\\\]${layer}[/\\\\]index\\.[jt]s`).test(e.message);
    if (missingIndex) throw new RoleUnavailableError(role, { cause: err });
    throw err;
  }
  if (typeof mod[exportName] !== 'function') throw new RoleUnavailableError(role);
  return mod as T;
}

export type RoleStarter<R extends Role> = (config: ConfigFor<R>, ctx: RoleContext) => Promise<RoleHandle[]>;

/** Starts, in order, what a role runs; the handles come back in start order. */
export const ROLE_STARTERS: { [R in Role]: RoleStarter<R> } = {
  namesrv: async (config, ctx) => [await startNamesrv(config, { logger: ctx.logger })],
  broker: async (config, ctx) => {
    const mod = await loadLayer<BrokerModule>('broker', 'broker', 'startBroker');
    return [await mod.startBroker(config, { logger: ctx.logger })];
  },
  proxy: async (config, ctx) => {
    const mod = await loadLayer<ProxyModule>('proxy', 'proxy', 'startProxy');
    return [await mod.startProxy(config, { logger: ctx.logger })];
  },
  standalone: startStandalone,
};

async function startStandalone(config: StandaloneConfig, ctx: RoleContext): Promise<RoleHandle[]> {
  const namesrv = await startNamesrv(namesrvConfigOf(config), { logger: ctx.logger });
  let mod: BrokerModule;
  try {
    mod = await loadLayer<BrokerModule>('broker', 'broker', 'startBroker');
  } catch (err) {
    if (!(err instanceof RoleUnavailableError)) {
      await namesrv.close();
      throw err;
    }
    ctx.logger.warn('the broker is not available in this build yet; standalone runs the name server only');
    return [namesrv];
  }
  try {
    const broker = await mod.startBroker(brokerConfigOf(config, namesrv.addresses.namesrv), {
      logger: ctx.logger,
      standalone: true,
    });
    return [namesrv, broker];
  } catch (err) {
    await namesrv.close();
    throw err;
  }
}

/** Addresses in ready-line order. */
export const READY_ORDER = ['namesrv', 'broker', 'grpc', 'http'] as const;

export function readyLine(handles: readonly RoleHandle[]): string {
  const all: Record<string, string> = {};
  for (const h of handles) Object.assign(all, h.addresses);
  const parts = READY_ORDER.filter((k) => all[k] !== undefined).map((k) => `${k}=${all[k]}`);
  return `apogee ready: ${parts.join(' ')}`;
}
