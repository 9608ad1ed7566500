// Shared setup for the ali-ons compatibility suites: load the real client, create routed topics,
// and open producers/consumers that are all closed (inner producer included) when the harness is.
import { createRequire } from 'node:module';
import {
  createRequest,
  RemotingClient,
  RequestCode,
  ResponseCode,
} from '../../../src/remoting/index.js';
import { checkFor } from '../../helpers/check-for.js';
import type { Standalone } from '../../helpers/standalone.js';

const require = createRequire(import.meta.url);
// ali-ons ships no types; the few members the suites touch are typed below.
export const ons = require('ali-ons') as { Producer: any; Consumer: any; Message: OnsMessageCtor };

/** What ali-ons hands a consumer's handler (only the fields the suites read). */
export interface OnsMessage {
  topic: string;
  tags: string | null;
  keys: string | undefined;
  body: Buffer;
  msgId: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  storeHost: string;
  bornHost: string;
  reconsumeTimes: number;
  /** ORIGIN_MESSAGE_ID: set on a retried message. */
  originMessageId: string | undefined;
  properties: Record<string, string>;
}

/** A message built for sending. */
export interface OnsOutgoingMessage {
  topic: string;
  body: Buffer;
  properties: Record<string, string>;
  /** ali-ons' setter takes a list and stores it space-separated in the KEYS property. */
  keys: string[] | string | undefined;
}

export interface OnsMessageCtor {
  new (topic: string, tags: string, body: string | Buffer): OnsOutgoingMessage;
}

export interface OnsSendResult {
  sendStatus: string;
  msgId: string;
  messageQueue: { topic: string; brokerName: string; queueId: number };
  queueOffset: number;
}

export const quietLogger = { info() {}, debug() {}, warn() {}, error() {} };

/** Short task intervals: ali-ons notices routes and rebalances fast, and its loops end soon after close. */
const INTERVALS = {
  pollNameServerInteval: 300,
  heartbeatBrokerInterval: 300,
  persistConsumerOffsetInterval: 300,
  rebalanceInterval: 300,
};

let instanceSeq = 0;
/** ali-ons shares one MQClient per clientId (ip@instanceName); unique names keep clients apart. */
function nextInstanceName(role: string): string {
  return `apogee-${role}-${process.pid}-${++instanceSeq}`;
}

/** Creates a topic on the broker and waits until the name server routes it. */
export async function createTopic(s: Standalone, topic: string, queueNums = 8): Promise<void> {
  const rc = new RemotingClient();
  try {
    const resp = await rc.invoke(
      s.brokerAddr,
      createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic, readQueueNums: queueNums, writeQueueNums: queueNums, perm: 6 }),
    );
    if (resp.code !== ResponseCode.SUCCESS) throw new Error(`create topic ${topic}: ${resp.code} ${resp.remark ?? ''}`);
    await checkFor(
      5000,
      50,
      async () => (await rc.invoke(s.namesrvAddr, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }))).code === ResponseCode.SUCCESS,
      `namesrv route for ${topic}`,
    );
  } finally {
    await rc.close();
  }
}

export interface ConsumerOptions {
  consumerGroup: string;
  isBroadcast?: boolean;
  consumeFromWhere?: 'CONSUME_FROM_FIRST_OFFSET' | 'CONSUME_FROM_LAST_OFFSET' | 'CONSUME_FROM_TIMESTAMP';
  parallelConsumeLimit?: number;
  /** Sent with each send-back; the broker dead-letters past it (ali-ons' default 16). */
  maxReconsumeTimes?: number;
}

/**
 * Opens ali-ons clients against one standalone and closes them all on dispose: consumers first
 * (they persist offsets on close), then producers, then ali-ons' process-wide inner producer.
 */
export class OnsHarness {
  /** Every 'error' event the clients emitted, for diagnosing a failure. */
  readonly errors: Error[] = [];
  private readonly consumers: any[] = [];
  private readonly producers: any[] = [];
  private innerReady: Promise<void> | undefined;

  constructor(private readonly s: Standalone) {}

  private base(role: string): Record<string, unknown> {
    return {
      nameSrv: this.s.namesrvAddr,
      httpclient: {},
      logger: quietLogger,
      clientIP: '127.0.0.1',
      instanceName: nextInstanceName(role),
      ...INTERVALS,
    };
  }

  /** The inner producer (used for retry fall-backs) is created once per process from the first options it sees; give it ours. */
  private ensureInner(): Promise<void> {
    return (this.innerReady ??= (async () => {
      const inner = ons.Producer.defaultProducer;
      if (inner) {
        await inner.close();
        ons.Producer.defaultProducer = null;
      }
      const p = await ons.Producer.getDefaultProducer(this.base('inner'));
      p.on('error', (err: Error) => this.errors.push(err));
    })());
  }

  async producer(producerGroup: string, extra: Record<string, unknown> = {}): Promise<any> {
    await this.ensureInner();
    const p = new ons.Producer({ ...this.base('producer'), producerGroup, ...extra });
    p.on('error', (err: Error) => this.errors.push(err));
    this.producers.push(p);
    await p.ready();
    return p;
  }

  /** A consumer subscribed to one topic; `ready()` has resolved when this returns. */
  async consumer(
    opts: ConsumerOptions,
    topic: string,
    expression: string,
    handler: (msg: OnsMessage) => Promise<unknown>,
  ): Promise<any> {
    await this.ensureInner();
    const c = new ons.Consumer({
      ...this.base('consumer'),
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      persistent: false,
      ...opts,
    });
    c.on('error', (err: Error) => this.errors.push(err));
    this.consumers.push(c);
    c.subscribe(topic, expression, handler);
    await c.ready();
    return c;
  }

  /** Closes one consumer now (it persists its offsets first). */
  async closeConsumer(c: any): Promise<void> {
    const i = this.consumers.indexOf(c);
    if (i >= 0) this.consumers.splice(i, 1);
    await c.close();
  }

  /** The queue ids of `topic` a consumer currently pulls from. */
  static assignedQueues(c: any, topic: string): number[] {
    const ids: number[] = [];
    for (const v of (c._processQueueTable as Map<string, { messageQueue: { topic: string; queueId: number } }>).values()) {
      if (v.messageQueue.topic === topic) ids.push(v.messageQueue.queueId);
    }
    return ids.sort((a, b) => a - b);
  }

  async close(): Promise<void> {
    for (const c of this.consumers.splice(0).reverse()) await c.close().catch(() => undefined);
    for (const p of this.producers.splice(0).reverse()) await p.close().catch(() => undefined);
    const inner = ons.Producer.defaultProducer;
    if (inner) {
      ons.Producer.defaultProducer = null;
      await inner.close().catch(() => undefined);
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Sends `count` messages built by `make`, at most `inFlight` at a time; returns the results in order. */
export async function sendAll(
  producer: any,
  count: number,
  make: (i: number) => OnsOutgoingMessage,
  inFlight = 64,
): Promise<OnsSendResult[]> {
  const results: OnsSendResult[] = new Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = (await producer.send(make(i))) as OnsSendResult;
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return results;
}
