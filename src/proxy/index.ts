import type { Logger } from '../common/logger.js';
import type { ProxyConfig, RoleHandle } from '../config/index.js';

export { startGrpcProxy, type GrpcProxyHandle, type GrpcProxyOptions } from './grpc-server.js';
export { Code } from './grpc-code.js';

/**
 * `apogee proxy` on its own ("cluster" mode, in front of remote brokers over remoting) needs
 * pop/ack over remoting between proxy and broker, which this version does not have; the gRPC
 * endpoint runs inside the broker process instead (`apogee broker` / `apogee standalone`).
 */
export function startProxy(config: ProxyConfig, _opts: { logger?: Logger } = {}): Promise<RoleHandle> {
  return Promise.reject(
    new Error(
      `proxy mode "${config.proxyMode}" as a separate process is not supported yet: the gRPC endpoint runs inside the broker ` +
        `(apogee broker or apogee standalone, --grpcServerPort=${config.grpcServerPort})`,
    ),
  );
}
