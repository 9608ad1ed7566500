// `apogee proxy` in "cluster" mode: a process of its own in front of brokers it finds through the
// name servers, serving gRPC over a RemoteBackend. Nothing reachable from here loads src/broker or
// src/store at run time (test/proxy/cluster-proxy-imports.test.ts holds it to that).
import { silentLogger, type Logger } from '../common/logger.js';
import { aclEnabled, defaultAclConfigFile, type ProxyConfig, type RoleHandle } from '../config/index.js';
import { AclService, innerClientSigner } from '../remoting/acl/index.js';
import { clientTlsOf, serverTlsOf } from '../remoting/index.js';
import { RemoteBackend, type RemoteBackendOptions } from './backend/remote-backend.js';
import { grpcAclHook } from './grpc-acl-hook.js';
import type { GrpcHook } from './grpc-hooks.js';
import { grpcEdgeOf } from './grpc-edge.js';
import { startGrpcServer, type GrpcProxyHandle } from './grpc-server.js';

export function createRemoteBackend(opts: RemoteBackendOptions): Promise<RemoteBackend> {
  return RemoteBackend.create(opts);
}

export interface ClusterProxyHandle extends RoleHandle {
  readonly backend: RemoteBackend;
}

/** Connects to the name servers of config.namesrvAddr and to the first broker group they know. */
export async function startClusterProxy(config: ProxyConfig, opts: { logger?: Logger } = {}): Promise<ClusterProxyHandle> {
  if (!config.namesrvAddr) throw new Error('proxy in cluster mode needs namesrvAddr (-n host:port) to find its brokers');
  // Everything the proxy asks of name servers and brokers is signed with the cluster account, so
  // members with ACL on serve it; the 5.x clients' own accounts are checked here, not there.
  const rpcHook = innerClientSigner(config.innerClientAuthenticationCredentials);
  const backend = await createRemoteBackend({ namesrvAddr: config.namesrvAddr, logger: opts.logger ?? silentLogger, rpcHook, tls: clientTlsOf(config) });
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
export async function startProxy(
  config: ProxyConfig,
  opts: { logger?: Logger; hooks?: readonly GrpcHook[] } = {},
): Promise<RoleHandle & { acl?: AclService; grpc?: Pick<GrpcProxyHandle, 'context'>; backend?: RemoteBackend }> {
  if (config.proxyMode !== 'cluster') {
    throw new Error(`proxyMode "${config.proxyMode}" runs inside a broker (apogee broker / apogee standalone); use --proxyMode=cluster for a proxy process`);
  }
  // A missing or malformed plain_acl.yml refuses the start before anything connects, as on a broker.
  const acl = aclEnabled(config) ? AclService.open({ file: config.aclConfigFile || defaultAclConfigFile(undefined), logger: opts.logger ?? silentLogger }) : undefined;
  let cluster: ClusterProxyHandle | undefined;
  try {
    cluster = await startClusterProxy(config, opts);
    // ACL is the first hook, so no other hook sees a request the proxy refuses to serve.
    const hooks = acl ? [grpcAclHook(acl), ...(opts.hooks ?? [])] : opts.hooks;
    // The gRPC port takes tlsServerMode like a broker's endpoint (permissive: TLS and plain on one port).
    const grpc = await startGrpcServer(cluster.backend, { host: config.host, port: config.grpcServerPort, logger: opts.logger, hooks, edge: grpcEdgeOf(config), tls: serverTlsOf(config) });
    acl?.watch();
    const backend = cluster;
    let closing: Promise<void> | undefined;
    return {
      acl,
      // Its 5.x clients and its signed remoting side, for the console's client reports (src/console/proxy-console.ts).
      grpc,
      backend: backend.backend,
      addresses: { grpc: grpc.address },
      close: () => (closing ??= grpc.close().then(() => backend.close()).finally(() => acl?.close())),
    };
  } catch (err) {
    await cluster?.close();
    acl?.close();
    throw err;
  }
}
