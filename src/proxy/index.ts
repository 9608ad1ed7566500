import type { Logger } from '../common/logger.js';
import type { ProxyConfig, RoleHandle } from '../config/index.js';
import { startClusterProxy } from './cluster-proxy.js';
import { startGrpcServer } from './grpc-server.js';

export { startGrpcProxy, startGrpcServer, type GrpcProxyHandle, type GrpcProxyOptions } from './grpc-server.js';
export { startClusterProxy, createRemoteBackend } from './cluster-proxy.js';
export { LocalBackend } from './backend/local-backend.js';
export { RemoteBackend } from './backend/remote-backend.js';
export type { ProxyBackend } from './backend/proxy-backend.js';
export { Code } from './grpc-code.js';
export { GrpcHooks, type GrpcHook, type GrpcCallContext, type GrpcCallOutcome, type GrpcRefusal } from './grpc-hooks.js';

/**
 * `apogee proxy`: the gRPC endpoint as a process of its own in front of the brokers the name
 * servers know ("cluster" mode, remoting to the brokers). "local" mode means the endpoint inside
 * a broker process, which `apogee broker` and `apogee standalone` already run.
 */
export async function startProxy(config: ProxyConfig, opts: { logger?: Logger } = {}): Promise<RoleHandle> {
  if (config.proxyMode !== 'cluster') {
    throw new Error(`proxyMode "${config.proxyMode}" runs inside a broker (apogee broker / apogee standalone); use --proxyMode=cluster for a proxy process`);
  }
  const cluster = await startClusterProxy(config, opts);
  try {
    const grpc = await startGrpcServer(cluster.backend, { host: config.host, port: config.grpcServerPort, logger: opts.logger });
    let closing: Promise<void> | undefined;
    return {
      addresses: { grpc: grpc.address },
      close: () => (closing ??= grpc.close().then(() => cluster.close())),
    };
  } catch (err) {
    await cluster.close();
    throw err;
  }
}
