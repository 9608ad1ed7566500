// Which function starts each role. A broker (alone or in standalone) also serves the gRPC v2
// endpoint in-process ("local" proxy mode) on grpcServerPort. Roles load their layers when they
// start, so `apogee proxy` and `apogee namesrv` never load the broker and the store.
import type { Logger } from '../common/logger.js';
import {
  aclEnabled,
  brokerConfigOf,
  namesrvConfigOf,
  type BrokerConfig,
  type ConfigFor,
  type Role,
  type RoleHandle,
  type StandaloneConfig,
} from '../config/index.js';

export interface RoleContext {
  logger: Logger;
}

export type RoleStarter<R extends Role> = (config: ConfigFor<R>, ctx: RoleContext) => Promise<RoleHandle[]>;

/** Starts, in order, what a role runs; the handles come back in start order (closed in reverse). */
export const ROLE_STARTERS: { [R in Role]: RoleStarter<R> } = {
  namesrv: async (config, ctx) => {
    const { startNamesrv } = await import('../namesrv/index.js');
    return [await startNamesrv(config, { logger: ctx.logger })];
  },
  broker: (config, ctx) => startBrokerWithEndpoints(config, config.grpcServerPort, ctx),
  proxy: async (config, ctx) => {
    const [{ startProxy }, { createProxyMetrics, startProxyConsole }] = await Promise.all([import('../proxy/cluster-proxy.js'), import('../console/proxy-console.js')]);
    const metrics = config.metricsEnable ? createProxyMetrics({ proxyMode: config.proxyMode }) : undefined;
    const proxy = await startProxy(config, { logger: ctx.logger, hooks: metrics ? [metrics.hook] : [] });
    try {
      const grpcClients = proxy.grpc && proxy.backend ? { api: proxy.backend.api, clients: proxy.grpc.context.clients, proxy: `${proxy.backend.clientId} ${proxy.addresses.grpc}` } : undefined;
      return [proxy, await startProxyConsole({ host: config.host, httpPort: config.httpPort, metrics, logger: ctx.logger.child({ role: 'console' }), grpcClients })];
    } catch (err) {
      await proxy.close();
      throw err;
    }
  },
  standalone: startStandalone,
  console: async (config, ctx) => {
    const { startConsoleRole } = await import('../console/console-role.js');
    return [await startConsoleRole(config, { logger: ctx.logger.child({ role: 'console' }) })];
  },
};

/** Standalone's console on its httpPort; absent for `apogee broker` (whose httpPort serves /metrics only). */
interface WebConsole {
  login?: { user: string; password: string };
  sampleIntervalMs: number;
  /** The broker checks ACL: its admin accounts log in to the console. */
  acl: boolean;
}

async function startBrokerWithEndpoints(config: BrokerConfig, grpcPort: number, ctx: RoleContext, web?: WebConsole): Promise<RoleHandle[]> {
  const [{ startBroker }, { startGrpcProxy }, { startBrokerConsole }] = await Promise.all([
    import('../broker/index.js'),
    import('../proxy/local-proxy.js'),
    import('../console/broker-console.js'),
  ]);
  const broker = await startBroker(config, { logger: ctx.logger });
  const handles: RoleHandle[] = [broker];
  try {
    const grpc = await startGrpcProxy(broker.controller, { host: config.host, port: grpcPort, logger: ctx.logger.child({ role: 'proxy' }) });
    handles.push({ addresses: { grpc: grpc.address }, close: () => grpc.close() });
    const { httpPort, metricsEnable } = config;
    const logger = ctx.logger.child({ role: 'console' });
    let host = config.host;
    let webConsole;
    if (web) {
      const { consoleBinding } = await import('../console/console-role.js');
      const bind = consoleBinding(config.host, web.login, web.acl);
      if (bind.access === 'loopback-only' && bind.host !== config.host) logger.warn('no consoleUser/consolePassword: the console (and /metrics) listen on loopback only');
      host = bind.host;
      webConsole = { namesrvAddr: config.namesrvAddr, login: web.login, acl: web.acl, access: bind.access, sampleIntervalMs: web.sampleIntervalMs };
    }
    handles.push(await startBrokerConsole(broker.controller, { host, httpPort, metricsEnable, grpc, logger, console: webConsole }));
    return handles;
  } catch (err) {
    for (const h of handles.reverse()) await h.close();
    throw err;
  }
}

async function startStandalone(config: StandaloneConfig, ctx: RoleContext): Promise<RoleHandle[]> {
  const { startNamesrv } = await import('../namesrv/index.js');
  const namesrv = await startNamesrv(namesrvConfigOf(config), { logger: ctx.logger });
  try {
    const login = config.consoleUser !== '' && config.consolePassword !== '' ? { user: config.consoleUser, password: config.consolePassword } : undefined;
    const web = { login, sampleIntervalMs: config.consoleSampleIntervalMs, acl: aclEnabled(config) };
    const rest = await startBrokerWithEndpoints(brokerConfigOf(config, namesrv.addresses.namesrv), config.grpcServerPort, ctx, web);
    return [namesrv, ...rest];
  } catch (err) {
    await namesrv.close();
    throw err;
  }
}

/** Addresses in ready-line order. */
export const READY_ORDER = ['namesrv', 'broker', 'ha', 'grpc', 'http', 'console', 'consoleAccess'] as const;

export function readyLine(handles: readonly RoleHandle[]): string {
  const all: Record<string, string> = {};
  for (const h of handles) Object.assign(all, h.addresses);
  const parts = READY_ORDER.filter((k) => all[k] !== undefined).map((k) => `${k}=${all[k]}`);
  return `apogee ready: ${parts.join(' ')}`;
}
