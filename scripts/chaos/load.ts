// Load from the real ali-ons 4.x producer: numbered self-checking bodies sent with bounded
// concurrency; every SEND_OK is recorded with the queue position the broker acknowledged.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { makeBody } from './body.js';
import type { Rng } from './random.js';

const require = createRequire(import.meta.url);
// ali-ons ships no types; only what the chaos run touches is used.
const ons = require('ali-ons') as { Producer: any; Message: new (topic: string, tags: string, body: Buffer) => unknown };

const FAILURE_PAUSE_MS = 20;
const quietLogger = { info() {}, debug() {}, warn() {}, error() {} };

export interface Ack {
  id: string;
  round: number;
  queueId: number;
  queueOffset: number;
  msgId: string;
}

export interface ProducerOptions {
  /** ali-ons sendMsgTimeout (3000 by default). */
  sendMsgTimeout?: number;
  /** ali-ons retryTimesWhenSendFailed (3 by default); a retry after a lost answer stores a duplicate. */
  retryTimesWhenSendFailed?: number;
}

let instanceSeq = 0;
/** ali-ons shares one MQClient per clientId (ip@instanceName): a unique name per producer keeps rounds apart. */
function instanceName(role: string): string {
  return `apogee-chaos-${role}-${process.pid}-${++instanceSeq}`;
}

/** An ali-ons producer and its process-wide inner producer, both pointed at one name server. */
export class OnsProducer {
  readonly errors: string[] = [];

  private constructor(readonly producer: any) {}

  static async open(namesrv: string, group: string, o: ProducerOptions = {}): Promise<OnsProducer> {
    const base = {
      nameSrv: namesrv,
      httpclient: {},
      logger: quietLogger,
      clientIP: '127.0.0.1',
      // ali-ons' scheduled tasks sleep a whole interval before they see a close: short ones let the process exit soon after.
      pollNameServerInteval: 1000,
      heartbeatBrokerInterval: 1000,
      rebalanceInterval: 1000,
      persistConsumerOffsetInterval: 1000,
    };
    // ali-ons creates its inner producer once per process from the first options it sees; the
    // name server moves with every restart, so each producer gets a fresh one.
    await closeInner();
    // ali-ons adds a 'close' listener to its channel per request in flight: 16 concurrent sends
    // are expected here, not a leak.
    EventEmitter.defaultMaxListeners = Math.max(EventEmitter.defaultMaxListeners, 64);
    const inner = await ons.Producer.getDefaultProducer({ ...base, instanceName: instanceName('inner') });
    const p = new OnsProducer(new ons.Producer({ ...base, instanceName: instanceName('producer'), producerGroup: group, ...o }));
    const onError = (err: Error): void => {
      if (p.errors.length < 20) p.errors.push(err.message);
    };
    inner.on('error', onError);
    p.producer.on('error', onError);
    await p.producer.ready();
    return p;
  }

  /** Sends one message; the ali-ons result or the error it threw. */
  async send(topic: string, body: Buffer): Promise<{ sendStatus: string; msgId: string; queueId: number; queueOffset: number }> {
    const r = await this.producer.send(new ons.Message(topic, 'chaos', body));
    // ali-ons hands header fields on as the strings the broker sent.
    return { sendStatus: r.sendStatus, msgId: r.msgId, queueId: Number(r.messageQueue.queueId), queueOffset: Number(r.queueOffset) };
  }

  /**
   * One attempt through ali-ons' send layer, without its retry loop: send() swallows the
   * broker's SERVICE_NOT_AVAILABLE and SYSTEM_ERROR answers (to retry) and then throws a generic
   * error; this throws ali-ons' MQClientException with the broker's code and remark. The producer
   * must have sent to the topic before (it needs the route).
   */
  async sendOnce(topic: string, body: Buffer): Promise<void> {
    const mq = this.producer._topicPublishInfoTable.get(topic)?.messageQueueList?.[0];
    if (!mq) throw new Error(`ali-ons has no route of ${topic}`);
    await this.producer.sendKernelImpl(new ons.Message(topic, 'chaos', body), mq);
  }

  /** Closes both producers; bounded, since closing talks to a broker that may be dead. */
  async close(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const done = Promise.all([closeProducer(this.producer), closeInner()]);
    await Promise.race([done, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }
}

/**
 * ali-ons' close() stops at the first broker that does not take its unregister (a killed one)
 * and never closes its MQClient, whose scheduled tasks then run forever; close that client here.
 */
async function closeProducer(p: any): Promise<void> {
  try {
    await p.close();
  } catch {
    await p._mqClient.close().catch(() => undefined);
  }
}

async function closeInner(): Promise<void> {
  const inner = ons.Producer.defaultProducer;
  if (!inner) return;
  ons.Producer.defaultProducer = null;
  await closeProducer(inner);
}

export interface LoadOptions {
  topic: string;
  round: number;
  concurrency: number;
  /** Upper bound on sends of this load, acknowledged or not. */
  maxMessages: number;
  rng: Rng;
}

/** Concurrent senders running until stop() (or maxMessages); counts what came back. */
export class Load {
  readonly acks: Ack[] = [];
  /** Sends that threw (timeouts, refused connections, refusals after ali-ons' own retries). */
  failed = 0;
  /** Answers other than SEND_OK (e.g. FLUSH_DISK_TIMEOUT): not acknowledged. */
  notOk = 0;
  readonly failures = new Map<string, number>();
  private sent = 0;
  private stopped = false;
  private readonly workers: Promise<void>[] = [];
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly producer: OnsProducer,
    private readonly o: LoadOptions,
  ) {}

  start(): this {
    for (let i = 0; i < this.o.concurrency; i++) this.workers.push(this.worker());
    return this;
  }

  /** Resolves at the next acknowledgement (for "serves again" checks). */
  nextAck(): Promise<void> {
    return new Promise((r) => this.listeners.push(r));
  }

  /** Stops issuing sends and waits for those in flight to settle (ali-ons bounds each by its timeouts). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  private async worker(): Promise<void> {
    while (!this.stopped && this.sent < this.o.maxMessages) {
      const seq = this.sent++;
      const body = makeBody(this.o.round, seq, this.o.rng);
      try {
        const r = await this.producer.send(this.o.topic, body);
        if (r.sendStatus !== 'SEND_OK') {
          this.notOk++;
          this.countFailure(`status ${r.sendStatus}`);
          continue;
        }
        this.acks.push({ id: `${this.o.round}-${seq}`, round: this.o.round, queueId: r.queueId, queueOffset: r.queueOffset, msgId: r.msgId });
        for (const l of this.listeners.splice(0)) l();
      } catch (err) {
        this.failed++;
        this.countFailure((err as Error).message.replace(/\d+/g, 'N').slice(0, 160));
        // A refusing broker answers at once: without a pause the senders would spin on two shared cores.
        await new Promise((r) => setTimeout(r, FAILURE_PAUSE_MS));
      }
    }
  }

  private countFailure(what: string): void {
    this.failures.set(what, (this.failures.get(what) ?? 0) + 1);
  }
}
