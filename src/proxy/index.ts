// The gRPC v2 endpoint. Importing this index loads the broker (LocalBackend); a process that only
// proxies remote brokers imports cluster-proxy.ts directly.
export { startGrpcServer, type GrpcProxyHandle, type GrpcProxyOptions } from './grpc-server.js';
export { startGrpcProxy } from './local-proxy.js';
export { startClusterProxy, startProxy, createRemoteBackend } from './cluster-proxy.js';
export { LocalBackend } from './backend/local-backend.js';
export { RemoteBackend } from './backend/remote-backend.js';
export type { ProxyBackend } from './backend/proxy-backend.js';
export { Code } from './grpc-code.js';
export { GrpcHooks, type GrpcHook, type GrpcCallContext, type GrpcCallOutcome, type GrpcRefusal } from './grpc-hooks.js';
