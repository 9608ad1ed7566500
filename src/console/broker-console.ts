// The HTTP side of a broker process (`apogee broker`, `apogee standalone`): its metrics, fed by the
// broker's hooks and by its in-process gRPC endpoint, served on httpPort.
import type { Logger } from '../common/logger.js';
import type { RoleHandle } from '../config/index.js';
import type { BrokerController } from '../broker/index.js';
import { createBrokerMetricsView } from '../broker/metrics-view.js';
import { BrokerMetrics, createMetricsRegistry } from '../observability/metrics/index.js';
import { registerLiteGauges } from '../observability/metrics/lite-gauges.js';
import { liteMetricsOf } from '../broker/lite/index.js';
import type { ClientManager } from '../proxy/client-manager.js';
import type { GrpcHook } from '../proxy/grpc-hooks.js';
import { mountConsole, type ConsoleApp } from './console-app.js';
import type { ConsoleLogin } from './console-auth.js';
import { consoleAddresses, type ConsoleAccess } from './console-role.js';
import { serveGrpcClientList } from './grpc-client-list.js';
import { withGrpcConnections } from './grpc-connections.js';
import { grpcMetricsHook } from './grpc-metrics.js';
import { startHttpServer } from './http-server.js';

/** The broker's gRPC endpoint (GrpcProxyHandle): where its hooks go and who its clients are. */
export interface GrpcHookTarget {
  addHook(hook: GrpcHook): () => void;
  readonly context?: { readonly clients: Pick<ClientManager, 'values' | 'isAlive'> };
}

export interface BrokerMetricsHandle {
  readonly metrics: BrokerMetrics;
  /** Removes every hook the metrics added; the counters stay readable. */
  detach(): void;
}

export interface BrokerMetricsAttachOptions {
  grpc?: GrpcHookTarget;
  logger?: Logger;
  /** Node process metrics (process_*, nodejs_*); default on. */
  processMetrics?: boolean;
}

/** Counts a broker's traffic from now on: service-layer events, remoting responses, gRPC calls. */
export function attachBrokerMetrics(controller: BrokerController, opts: BrokerMetricsAttachOptions = {}): BrokerMetricsHandle {
  const c = controller.config;
  const registry = createMetricsRegistry({ labels: { cluster: c.brokerClusterName, node_type: 'broker', node_id: c.brokerName }, processMetrics: opts.processMetrics });
  const logger = opts.logger;
  const metrics = new BrokerMetrics({
    registry,
    view: opts.grpc?.context ? withGrpcConnections(createBrokerMetricsView(controller), opts.grpc.context.clients) : createBrokerMetricsView(controller),
    onError: (err, part) => logger?.warn({ err, part }, 'a metrics reading failed; the scrape goes on without it'),
  });
  const undo = [metrics.attach(controller.hooks), controller.remotingServer.addHook(metrics.rpc.remotingHook())];
  registerLiteGauges(registry, () => liteMetricsOf(controller.store));
  if (opts.grpc) undo.push(opts.grpc.addHook(grpcMetricsHook(metrics.rpc)));
  return { metrics, detach: () => undo.forEach((f) => f()) };
}

export interface BrokerConsoleOptions {
  host: string;
  httpPort: number;
  metricsEnable: boolean;
  grpc?: GrpcHookTarget;
  logger: Logger;
  /** The web console on the same listener (standalone); the caller has chosen host by its access rule. */
  console?: { namesrvAddr: string; login?: ConsoleLogin; acl?: boolean; access: ConsoleAccess; sampleIntervalMs: number };
}

/** httpPort of a broker process; with metricsEnable=false nothing is hooked and /metrics says so. */
export async function startBrokerConsole(controller: BrokerController, opts: BrokerConsoleOptions): Promise<RoleHandle & { metrics?: BrokerMetricsHandle }> {
  // Any console (this process's or `apogee console` elsewhere) asks for the 5.x clients over remoting.
  // Those of a separate `apogee proxy` arrive as its reports (REPORT_GRPC_CLIENTS).
  serveGrpcClientList(controller.remotingServer, opts.grpc?.context?.clients);
  const metrics = opts.metricsEnable ? attachBrokerMetrics(controller, { grpc: opts.grpc, logger: opts.logger }) : undefined;
  const c = opts.console;
  let app: ConsoleApp | undefined;
  try {
    const http = await startHttpServer({
      host: opts.host,
      port: opts.httpPort,
      logger: opts.logger,
      registry: metrics?.metrics.registry,
      setup: c
        ? async (f) => {
            app = await mountConsole(f, { namesrvAddr: c.namesrvAddr, login: c.login, acl: c.acl, sampleIntervalMs: c.sampleIntervalMs, logger: opts.logger });
          }
        : undefined,
    });
    return {
      metrics,
      addresses: c ? consoleAddresses(http.address, c.access) : { http: http.address },
      close: async () => {
        await http.close();
        await app?.close();
        metrics?.detach();
      },
    };
  } catch (err) {
    await app?.close();
    metrics?.detach();
    throw err;
  }
}
