// The name server role: a remoting server over the route registry and KV config.
import { silentLogger, type Logger } from '../common/logger.js';
import { aclEnabled, defaultAclConfigFile, type NamesrvConfig, type RoleHandle } from '../config/index.js';
import { AclService, namesrvAccess } from '../remoting/acl/index.js';
import { RemotingServer, formatAddress, serverTlsOf } from '../remoting/index.js';
import { DefaultRequestProcessor } from './default-request-processor.js';
import { KVConfigManager } from './kv-config-manager.js';
import { RouteInfoManager } from './route-info-manager.js';

export { RouteInfoManager, type BrokerLiveInfo, type RegisterBrokerRequest, type RegisterBrokerResult } from './route-info-manager.js';
export { KVConfigManager } from './kv-config-manager.js';
export { DefaultRequestProcessor } from './default-request-processor.js';
// The wire types the name server reads and answers with are the protocol's.
export {
  BodyFormatError,
  decodeRegisterBrokerBody,
  MASTER_ID,
  NAMESPACE_ORDER_TOPIC_CONFIG,
  PermName,
  sameDataVersion,
  type BrokerData,
  type DataVersionData,
  type QueueData,
  type RegisterBrokerBody,
  type TopicConfig,
  type TopicRouteData,
} from '../remoting/protocol/index.js';

export interface StartNamesrvOptions {
  logger?: Logger;
  /** Clock for broker expiry (tests move it instead of waiting). */
  now?: () => number;
}

/** Address others can connect to: a wildcard bind is reached via loopback. */
export function connectableAddress(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  return formatAddress(h, port);
}

export async function startNamesrv(config: NamesrvConfig, opts: StartNamesrvOptions = {}): Promise<RoleHandle & { acl?: AclService }> {
  const logger = opts.logger ?? silentLogger;
  // A missing or malformed plain_acl.yml refuses the start; the hook is in place before the port opens.
  const acl = aclEnabled(config) ? AclService.open({ file: config.aclConfigFile || defaultAclConfigFile(undefined), logger }) : undefined;
  const kv = new KVConfigManager(config.kvConfigPath === '' ? undefined : config.kvConfigPath);
  await kv.load();
  const routes = new RouteInfoManager({ now: opts.now, brokerChannelExpiredTime: config.brokerChannelExpiredTime });
  const server = new RemotingServer({ host: config.host, port: config.listenPort, logger, hooks: acl ? [acl.remotingHook(namesrvAccess)] : undefined, tls: serverTlsOf(config) });
  new DefaultRequestProcessor(routes, kv, { orderMessageEnable: config.orderMessageEnable, logger }).registerOn(server);
  server.onChannelClose((ch) => {
    const gone = routes.onChannelDestroy(ch);
    if (gone) logger.info({ broker: gone.brokerName, addr: gone.brokerAddr }, 'broker channel closed, route removed');
  });
  const { port } = await server.listen();
  acl?.watch();
  const scanner = setInterval(() => {
    for (const b of routes.scanNotActiveBroker()) {
      logger.warn({ broker: b.brokerName, addr: b.brokerAddr }, 'broker expired, route removed');
    }
  }, config.scanNotActiveBrokerInterval);
  scanner.unref();
  const address = connectableAddress(config.host, port);
  logger.info({ address }, 'name server started');

  let closing: Promise<void> | undefined;
  return {
    acl,
    addresses: { namesrv: address },
    close() {
      closing ??= (async () => {
        clearInterval(scanner);
        acl?.close();
        await server.close();
        await kv.flush();
        logger.info({ address }, 'name server stopped');
      })();
      return closing;
    },
  };
}
