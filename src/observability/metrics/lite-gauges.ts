// Lite topics (issue 18) on /metrics. RocketMQ 5 has no gauge for the number of lite topics or
// lite subscriptions (its lite lag goes into rocketmq_consumer_lag_* of the parent topic), so
// these are Apogee's own, labelled by the parent topic as RocketMQ labels topics. Read at scrape
// time from the broker's lite service; nothing is reported until lite topics are first used.
import { Gauge, type Registry } from 'prom-client';

export interface LiteMetricsView {
  /** Lite topics held, per LITE parent topic. */
  topics: { parent: string; count: number }[];
  /** Distinct lite topics each consumer group subscribes to, per parent. */
  subscriptions: { parent: string; group: string; count: number }[];
}

export function registerLiteGauges(r: Registry, view: () => LiteMetricsView | undefined): void {
  new Gauge({
    name: 'apogee_lite_topics',
    help: 'Lite topics held under each LITE parent topic',
    labelNames: ['topic'],
    registers: [r],
    collect() {
      this.reset();
      for (const t of view()?.topics ?? []) this.set({ topic: t.parent }, t.count);
    },
  });
  new Gauge({
    name: 'apogee_lite_subscriptions',
    help: 'Lite topics of a LITE parent topic each consumer group subscribes to',
    labelNames: ['topic', 'consumer_group'],
    registers: [r],
    collect() {
      this.reset();
      for (const s of view()?.subscriptions ?? []) this.set({ topic: s.parent, consumer_group: s.group }, s.count);
    },
  });
}
