// The gRPC endpoint inside a broker process ("local" mode). The one proxy module, with
// backend/local-backend.ts, that loads the broker: `apogee proxy` (cluster-proxy.ts) must not.
import type { BrokerController } from '../broker/index.js';
import { LocalBackend } from './backend/local-backend.js';
import { startGrpcServer, type GrpcProxyHandle, type GrpcProxyOptions } from './grpc-server.js';

export function startGrpcProxy(broker: BrokerController, opts: GrpcProxyOptions): Promise<GrpcProxyHandle> {
  return startGrpcServer(new LocalBackend(broker), opts);
}
