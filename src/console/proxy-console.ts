// The HTTP side of `apogee proxy` (cluster mode): gRPC call latency and the messages that went through
// this proxy, served on httpPort. Loads nothing of the broker or the store.
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import type { Logger } from '../common/logger.js';
import type { RoleHandle } from '../config/index.js';
import { createMetricsRegistry, ProxyMetrics, RpcMetrics } from '../observability/metrics/index.js';
import type { GrpcHook } from '../proxy/grpc-hooks.js';
import { startGrpcClientReporter, type GrpcClientReporterOptions } from './grpc-client-list.js';
import { grpcMetricsHook } from './grpc-metrics.js';
import { startHttpServer } from './http-server.js';

export interface ProxyMetricsHandle {
  readonly registry: Registry;
  readonly rpc: RpcMetrics;
  readonly proxy: ProxyMetrics;
  /** To give the gRPC endpoint when it starts (GrpcProxyOptions.hooks). */
  readonly hook: GrpcHook;
}

export function createProxyMetrics(opts: { proxyMode: string; nodeId?: string; processMetrics?: boolean }): ProxyMetricsHandle {
  // RocketMQ's proxy labels its node with proxyName, the host name by default.
  const registry = createMetricsRegistry({ labels: { cluster: 'DefaultCluster', node_type: 'proxy', node_id: opts.nodeId ?? hostname() }, processMetrics: opts.processMetrics });
  const rpc = new RpcMetrics(registry);
  const proxy = new ProxyMetrics(registry, opts.proxyMode);
  return { registry, rpc, proxy, hook: grpcMetricsHook(rpc, proxy.hook) };
}

export interface ProxyConsoleOptions {
  host: string;
  httpPort: number;
  metrics: ProxyMetricsHandle | undefined;
  logger: Logger;
  /** The proxy's 5.x clients, reported to the brokers so consoles list them (grpc-client-list.ts). */
  grpcClients?: Omit<GrpcClientReporterOptions, 'logger'>;
}

export async function startProxyConsole(opts: ProxyConsoleOptions): Promise<RoleHandle> {
  const http = await startHttpServer({ host: opts.host, port: opts.httpPort, logger: opts.logger, registry: opts.metrics?.registry });
  const reporter = opts.grpcClients ? startGrpcClientReporter({ ...opts.grpcClients, logger: opts.logger }) : undefined;
  return {
    addresses: { http: http.address },
    close: async () => {
      await reporter?.stop();
      await http.close();
    },
  };
}
