// The gRPC endpoint inside a broker process ("local" mode). The one proxy module, with
// backend/local-backend.ts, that loads the broker: `apogee proxy` (cluster-proxy.ts) must not.
import { aclServiceOf, type BrokerController } from '../broker/index.js';
import { serverTlsOf } from '../remoting/index.js';
import { LocalBackend } from './backend/local-backend.js';
import { grpcAclHook } from './grpc-acl-hook.js';
import { grpcEdgeOf } from './grpc-edge.js';
import { startGrpcServer, type GrpcProxyHandle, type GrpcProxyOptions } from './grpc-server.js';

export function startGrpcProxy(broker: BrokerController, opts: GrpcProxyOptions): Promise<GrpcProxyHandle> {
  // A broker with ACL checks its 5.x clients with the same accounts, before any other hook.
  const acl = aclServiceOf(broker);
  const hooks = acl ? [grpcAclHook(acl), ...(opts.hooks ?? [])] : opts.hooks;
  // The endpoint shares the broker's TLS settings unless the caller gives its own.
  return startGrpcServer(new LocalBackend(broker), { tls: serverTlsOf(broker.config), edge: grpcEdgeOf(broker.config), ...opts, hooks });
}
