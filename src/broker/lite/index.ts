// Lite topics (issue 18): one LiteService per broker, made on first use by the broker's gRPC
// endpoint (the only protocol that speaks lite topics) and closed with it.
import { LiteService, type LiteHost } from './lite-service.js';

export { LiteService, LiteAction, type LiteHost, type LiteDelivery, type LiteOffsetOption, type LiteReceiveRequest, type LiteAckResult } from './lite-service.js';
export { LiteError, isLiteParent, validateLiteTopicName, liteLimitsOf, PROPERTY_LITE_TOPIC, PROPERTY_LITE_TAG, MAX_LITE_TOPIC_LENGTH, LITE_HANDLE_PREFIX, type LiteLimits, type LiteErrorKind } from './lite-names.js';
export { LiteTable, liteKey, type LiteTopic, type LiteProgress } from './lite-table.js';

// Keyed by the store: the gRPC endpoint and the remoting admin processor see the broker through
// different objects, but one store has one lite state.
const services = new WeakMap<object, Promise<LiteService>>();
const started = new WeakMap<object, LiteService>();

/** The broker's lite service, started (state loaded, sweeps running) on the first call. */
export function liteServiceOf(host: LiteHost): Promise<LiteService> {
  let s = services.get(host.store);
  if (!s) {
    const svc = new LiteService(host);
    s = svc.start().then(() => {
      started.set(host.store, svc);
      return svc;
    });
    services.set(host.store, s);
  }
  return s;
}

/** Saves and stops the broker's lite service if it was started; the next liteServiceOf starts a new one. */
export async function closeLiteService(host: LiteHost): Promise<void> {
  const s = services.get(host.store);
  if (!s) return;
  services.delete(host.store);
  started.delete(host.store);
  await (await s).close();
}

/** The numbers /metrics reports (src/observability/metrics/lite-gauges.ts); undefined until the broker's lite service runs. */
export function liteMetricsOf(store: object): { topics: { parent: string; count: number }[]; subscriptions: { parent: string; group: string; count: number }[] } | undefined {
  const svc = started.get(store);
  if (!svc) return undefined;
  return {
    topics: svc.table.parentNames().map((parent) => ({ parent, count: svc.table.countOf(parent) })),
    subscriptions: svc.subscriptionCounts().filter((s) => s.count > 0),
  };
}
