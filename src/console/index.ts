// HTTP on httpPort: Prometheus /metrics for brokers and proxies, and the web console with its JSON
// API (standalone and `apogee console`).
// Importing this index loads the broker; `apogee proxy` imports proxy-console.ts directly.
export { startHttpServer, type HttpServerHandle, type HttpServerOptions } from './http-server.js';
export { attachBrokerMetrics, startBrokerConsole, type BrokerMetricsHandle, type BrokerConsoleOptions, type GrpcHookTarget } from './broker-console.js';
export { createProxyMetrics, startProxyConsole, type ProxyMetricsHandle } from './proxy-console.js';
export { grpcMetricsHook, v2CodeName } from './grpc-metrics.js';
export { mountConsole, type ConsoleApp, type ConsoleAppOptions } from './console-app.js';
export { startConsoleRole, consoleBinding, consoleLoginOf } from './console-role.js';
