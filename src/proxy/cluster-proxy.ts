// `apogee proxy` in "cluster" mode: a process of its own in front of brokers it finds through the
// name servers. This builds the RemoteBackend; the gRPC server takes it once the activities
// speak ProxyBackend instead of BrokerController.
import { silentLogger, type Logger } from '../common/logger.js';
import type { ProxyConfig, RoleHandle } from '../config/index.js';
import { RemoteBackend, type RemoteBackendOptions } from './backend/remote-backend.js';

export function createRemoteBackend(opts: RemoteBackendOptions): Promise<RemoteBackend> {
  return RemoteBackend.create(opts);
}

export interface ClusterProxyHandle extends RoleHandle {
  readonly backend: RemoteBackend;
}

/** Connects to the name servers of config.namesrvAddr and to the first broker group they know. */
export async function startClusterProxy(config: ProxyConfig, opts: { logger?: Logger } = {}): Promise<ClusterProxyHandle> {
  if (!config.namesrvAddr) throw new Error('proxy in cluster mode needs namesrvAddr (-n host:port) to find its brokers');
  const backend = await createRemoteBackend({ namesrvAddr: config.namesrvAddr, logger: opts.logger ?? silentLogger });
  let closing: Promise<void> | undefined;
  return {
    backend,
    addresses: {},
    close: () => (closing ??= backend.close()),
  };
}
