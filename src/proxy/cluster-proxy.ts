// `apogee proxy` in "cluster" mode: a process of its own in front of brokers it finds through the
// name servers, serving gRPC over a RemoteBackend. Nothing reachable from here loads src/broker or
// src/store at run time (test/proxy/cluster-proxy-imports.test.ts holds it to that).
import { silentLogger, type Logger } from '../common/logger.js';
import type { ProxyConfig, RoleHandle } from '../config/index.js';
import { RemoteBackend, type RemoteBackendOptions } from './backend/remote-backend.js';
import type { GrpcHook } from './grpc-hooks.js';
import { startGrpcServer } from './grpc-server.js';

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

/**
 * `apogee proxy`: the gRPC endpoint as a process of its own in front of the brokers the name
 * servers know ("cluster" mode, remoting to the brokers). "local" mode means the endpoint inside
 * a broker process, which `apogee broker` and `apogee standalone` already run.
 */
export async function startProxy(config: ProxyConfig, opts: { logger?: Logger; hooks?: readonly GrpcHook[] } = {}): Promise<RoleHandle> {
  if (config.proxyMode !== 'cluster') {
    throw new Error(`proxyMode "${config.proxyMode}" runs inside a broker (apogee broker / apogee standalone); use --proxyMode=cluster for a proxy process`);
  }
  const cluster = await startClusterProxy(config, opts);
  try {
    const grpc = await startGrpcServer(cluster.backend, { host: config.host, port: config.grpcServerPort, logger: opts.logger, hooks: opts.hooks });
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
