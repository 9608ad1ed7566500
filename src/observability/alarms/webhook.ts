// Webhook notifications in Alertmanager's webhook format (version 4), so anything that takes
// Alertmanager's webhooks (chat bridges, incident tools, Alertmanager receivers) takes ours. Each
// webhook has one queue, sent in order (a resolved notice never overtakes its firing one), each
// notification tried up to maxAttempts times with doubling waits; every failure is logged.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../common/logger.js';
import { MAX_BACKOFF_MS, type WebhookConfig } from './rules.js';

/** Alertmanager's "no end time" for a firing alert. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';
/** Notifications waiting per webhook; past this the oldest is dropped (and logged). */
export const MAX_QUEUED = 1000;

export interface AlertmanagerAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface AlertmanagerPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: AlertmanagerAlert[];
}

/** Alertmanager's fingerprint is a hash of the sorted label set; ours is too (16 hex digits). */
export function fingerprint(labels: Readonly<Record<string, string>>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(labels).sort()) h.update(`${k}\u0000${labels[k]}\u0000`);
  return h.digest('hex').slice(0, 16);
}

export function alertOf(
  status: AlertmanagerAlert['status'],
  labels: Record<string, string>,
  annotations: Record<string, string>,
  startsAt: number,
  endsAt: number | undefined,
): AlertmanagerAlert {
  return {
    status,
    labels,
    annotations,
    startsAt: new Date(startsAt).toISOString(),
    endsAt: endsAt === undefined ? ZERO_TIME : new Date(endsAt).toISOString(),
    generatorURL: '',
    fingerprint: fingerprint(labels),
  };
}

function common(maps: readonly Record<string, string>[]): Record<string, string> {
  const out: Record<string, string> = { ...(maps[0] ?? {}) };
  for (const m of maps.slice(1)) for (const k of Object.keys(out)) if (m[k] !== out[k]) delete out[k];
  return out;
}

/**
 * One notification of a rule's alerts, grouped by alertname as Alertmanager's default route
 * does: status is firing while any alert in it fires.
 */
export function alertmanagerPayload(receiver: string, alertname: string, alerts: AlertmanagerAlert[], externalURL = ''): AlertmanagerPayload {
  return {
    version: '4',
    groupKey: `{}:{alertname=${JSON.stringify(alertname)}}`,
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver,
    groupLabels: { alertname },
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL,
    alerts,
  };
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** A status worth another try: server errors, timeouts and throttling; other 4xx will not change. */
function retryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

export class WebhookSender {
  private readonly queue: AlertmanagerPayload[] = [];
  private draining: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private closed = false;
  /** Counts for tests and the status body. */
  delivered = 0;
  failed = 0;

  constructor(
    readonly config: WebhookConfig,
    private readonly logger: Logger,
    private readonly fetchImpl: FetchLike = fetch,
  ) {}

  send(payload: AlertmanagerPayload): void {
    if (this.closed) return;
    if (this.queue.length >= MAX_QUEUED) {
      const dropped = this.queue.shift();
      this.failed++;
      this.logger.error({ webhook: this.config.name, status: dropped?.status, groupKey: dropped?.groupKey }, 'webhook queue full: the oldest notification was dropped');
    }
    this.queue.push(payload);
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  /** Resolves once everything queued so far was delivered or given up. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Stops at once: the try in flight is aborted and the queue dropped. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.queue.length > 0) this.logger.warn({ webhook: this.config.name, dropped: this.queue.length }, 'webhook notifications dropped at shutdown');
    this.queue.length = 0;
    this.abort.abort();
    await this.draining;
  }

  private async drain(): Promise<void> {
    for (let p = this.queue.shift(); p && !this.closed; p = this.queue.shift()) {
      if (await this.deliver(p)) this.delivered++;
      else if (!this.closed) this.failed++;
    }
  }

  private async deliver(p: AlertmanagerPayload): Promise<boolean> {
    const c = this.config;
    const body = JSON.stringify(p);
    const log = { webhook: c.name, url: c.url, status: p.status, groupKey: p.groupKey };
    for (let attempt = 1; attempt <= c.maxAttempts; attempt++) {
      let cause: string;
      try {
        const res = await this.fetchImpl(c.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'Apogee-Alarms' },
          body,
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(c.timeoutMs)]),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.logger.debug({ ...log, attempt }, 'webhook notified');
          return true;
        }
        cause = `HTTP ${res.status}`;
        if (!retryable(res.status)) {
          this.logger.error({ ...log, attempt, cause }, 'webhook refused the notification; not retried');
          return false;
        }
      } catch (err) {
        if (this.closed) return false;
        cause = err instanceof Error ? err.message : String(err);
      }
      if (attempt === c.maxAttempts) {
        this.logger.error({ ...log, attempts: attempt, cause }, 'webhook failed; notification given up');
        return false;
      }
      const waitMs = Math.min(c.backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
      this.logger.warn({ ...log, attempt, cause, retryInMs: waitMs }, 'webhook failed; retrying');
      try {
        await sleep(waitMs, undefined, { signal: this.abort.signal });
      } catch {
        return false;
      }
    }
    return false;
  }
}
