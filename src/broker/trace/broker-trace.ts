// Broker-side message trace wiring: the trace topic, and a BrokerTraceWriter on the service hooks
// whose batches are appended straight to the store (not through SendService, so trace messages
// raise no `stored` events of their own and are never traced).
import type { Logger } from '../../common/logger.js';
import { MessageConst } from '../../common/message-const.js';
import type { HostPort } from '../../common/message-host.js';
import { createUniqID } from '../../common/msg-id.js';
import type { BrokerConfig } from '../../config/index.js';
import { BrokerTraceWriter } from '../../observability/trace/broker-trace-writer.js';
import type { MessageStore } from '../../store/index.js';
import type { BrokerHooks } from '../service/broker-hooks.js';
import type { TopicConfigManager } from '../topic-config-manager.js';

export interface BrokerTraceDeps {
  config: Pick<BrokerConfig, 'traceTopicEnable' | 'traceBrokerEnable' | 'msgTraceTopicName' | 'traceFlushIntervalMs'>;
  store: MessageStore;
  topics: TopicConfigManager;
  hooks: BrokerHooks;
  delayLevelsMs: readonly number[];
  storeHost(): HostPort;
  /** Only a master writes: a slave's log is its master's, byte for byte. */
  isMaster(): boolean;
  logger: Logger;
}

/** Batches waiting for the store beyond this are dropped (and counted) rather than queued without end. */
const MAX_PENDING_PUTS = 64;

export class BrokerTrace {
  readonly writer: BrokerTraceWriter | undefined;
  private detach: (() => void) | undefined;
  private pending = 0;
  private last: Promise<unknown> = Promise.resolve();
  /** Batches not written because the store was behind or refused them. */
  dropped = 0;

  constructor(private readonly d: BrokerTraceDeps) {
    const c = d.config;
    if (c.traceTopicEnable || c.traceBrokerEnable) d.topics.createTopicIfAbsent(c.msgTraceTopicName, 1);
    if (!c.traceBrokerEnable) return;
    this.writer = new BrokerTraceWriter({ sink: (body, keys) => this.put(body, keys), flushIntervalMs: c.traceFlushIntervalMs, delayLevelsMs: d.delayLevelsMs });
    this.detach = this.writer.attach(d.hooks);
  }

  private put(body: string, keys: readonly string[]): void {
    const d = this.d;
    if (!d.isMaster()) return;
    if (this.pending >= MAX_PENDING_PUTS) {
      this.dropped++;
      return;
    }
    const now = Date.now();
    const host = d.storeHost();
    const properties = `${MessageConst.PROPERTY_KEYS}\u0001${keys.join(' ')}\u0002${MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX}\u0001${createUniqID()}\u0002`;
    this.pending++;
    this.last = d.store
      .putMessage({
        topic: d.config.msgTraceTopicName,
        queueId: 0,
        flag: 0,
        body: Buffer.from(body, 'utf8'),
        properties,
        sysFlag: 0,
        bornTimestamp: now,
        bornHost: host,
        storeHost: host,
        reconsumeTimes: 0,
        preparedTransactionOffset: 0,
      })
      .then(
        (r) => {
          if (r.status !== 'PUT_OK' && r.status !== 'FLUSH_DISK_TIMEOUT') this.dropped++;
        },
        (err: unknown) => {
          this.dropped++;
          d.logger.warn({ err }, 'a broker trace batch was not stored');
        },
      )
      .finally(() => this.pending--);
  }

  /** Writes what is pending and waits for it (before the store shuts down). */
  async close(): Promise<void> {
    this.detach?.();
    this.detach = undefined;
    await this.last;
  }
}
