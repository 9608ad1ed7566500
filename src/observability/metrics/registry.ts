// One prom-client Registry per node (broker or proxy), with RocketMQ's common labels on every series
// and, optionally, Node's process metrics (CPU, memory, event-loop lag, GC, handles).
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { NodeLabels } from './labels.js';

export interface MetricsRegistryOptions {
  labels: NodeLabels;
  /** prom-client's default metrics (process_*, nodejs_*); on unless a test leaves them out. */
  processMetrics?: boolean;
}

export function createMetricsRegistry(opts: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ ...opts.labels });
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });
  return registry;
}
