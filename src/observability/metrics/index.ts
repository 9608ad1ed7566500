// Prometheus metrics with Apache RocketMQ 5's and rocketmq-exporter's names. Importing this loads
// no broker or store code: `apogee proxy` uses it too.
export { createMetricsRegistry, type MetricsRegistryOptions } from './registry.js';
export { BrokerMetrics, MESSAGE_SIZE_BUCKETS, type BrokerHookLists, type BrokerMetricsOptions } from './broker-metrics.js';
export type * from './broker-view.js';
export { RpcMetrics, RPC_LATENCY_BUCKETS_MS, PUT_LATENCY_BANDS } from './rpc-metrics.js';
export { grpcRpcHook, ProxyMetrics, type GrpcCallView, type GrpcMetricsHook, type GrpcOutcomeView } from './proxy-metrics.js';
export { snakeCase, versionDesc, type NodeLabels } from './labels.js';
