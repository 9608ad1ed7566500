// Shared setup for the suites that drive the real 5.x client (rocketmq-client-nodejs) against the
// in-process standalone + gRPC endpoint: topics with a message type, groups, clients that are all
// shut down with the harness, and a raw gRPC client for what the real client refuses to send.
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../../src/remoting/index.js';
import { startGrpcProxy, type GrpcProxyHandle, type GrpcProxyOptions } from '../../../src/proxy/index.js';
import { loadMessagingService } from '../../../src/proxy/proto.js';
import { checkFor } from '../../helpers/check-for.js';
import { startStandalone, type BrokerOverrides, type Standalone } from '../../helpers/standalone.js';

const require = createRequire(import.meta.url);
// The client is CommonJS; loaded through require so its classes keep their runtime identity.
export const rmq = require('rocketmq-client-nodejs') as typeof import('rocketmq-client-nodejs');
/** Protobuf enums the client's index does not re-export (TransactionResolution, FilterType). */
export const pb = require('rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js') as {
  TransactionResolution: { COMMIT: 1; ROLLBACK: 2 };
  FilterType: { TAG: 1; SQL: 2 };
};
export type MessageView = import('rocketmq-client-nodejs').MessageView;
export type Producer = import('rocketmq-client-nodejs').Producer;
export type SimpleConsumer = import('rocketmq-client-nodejs').SimpleConsumer;
export type PushConsumer = import('rocketmq-client-nodejs').PushConsumer;
export type ProducerOptions = import('rocketmq-client-nodejs').ProducerOptions;
export type SimpleConsumerOptions = import('rocketmq-client-nodejs').SimpleConsumerOptions;
export type PushConsumerOptions = import('rocketmq-client-nodejs').PushConsumerOptions;

/** The client's default logger writes under the home directory and is closed at the first shutdown; this one is silent. */
export const quietClientLogger = { info() {}, warn() {}, error() {}, debug() {} };
// The push consumers' consume services ignore the `logger` option and each open their own file
// logger (under the home directory) that is never closed: its flush interval would keep the test
// process alive for ever. The client looks the factory up at call time, so replacing it suffices.
(require('rocketmq-client-nodejs/dist/client/Logger.js') as { getDefaultLogger: () => unknown }).getDefaultLogger = () => quietClientLogger;

export type TopicMessageType = 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION' | 'MIXED';

export interface GroupOptions {
  retryMaxTimes?: number;
  consumeMessageOrderly?: boolean;
}

async function admin(s: Standalone, code: number, ext: Record<string, string | number>, body?: Buffer): Promise<void> {
  const rc = new RemotingClient();
  try {
    const resp = await rc.invoke(s.brokerAddr, createRequest(code, ext, body));
    if (resp.code !== ResponseCode.SUCCESS) throw new Error(`admin request ${code}: ${resp.code} ${resp.remark ?? ''}`);
  } finally {
    await rc.close();
  }
}

/** Creates (or updates) a topic with a 5.x message type; absent type = NORMAL as in RocketMQ. */
export async function createTopic(s: Standalone, topic: string, type?: TopicMessageType, queueNums = 4): Promise<void> {
  const ext: Record<string, string | number> = { topic, readQueueNums: queueNums, writeQueueNums: queueNums, perm: 6 };
  if (type) ext.attributes = `+message.type=${type}`;
  await admin(s, RequestCode.UPDATE_AND_CREATE_TOPIC, ext);
}

export async function createGroup(s: Standalone, groupName: string, opts: GroupOptions = {}): Promise<void> {
  const body = { groupName, retryMaxTimes: opts.retryMaxTimes ?? 16, consumeMessageOrderly: opts.consumeMessageOrderly ?? false };
  await admin(s, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, Buffer.from(JSON.stringify(body)));
}

/** The 5.x clients opened at one endpoint; close() shuts them all down (in parallel, consumers included). */
export class GrpcClients {
  private readonly clients: { shutdown(): Promise<void> }[] = [];

  constructor(readonly endpoints: string) {}

  /** One topic only: a producer started with several can hang in the client's startup. */
  async producer(topic: string, extra: Partial<ProducerOptions> = {}): Promise<Producer> {
    const p = new rmq.Producer({ endpoints: this.endpoints, namespace: '', logger: quietClientLogger, topic, ...extra });
    await p.startup();
    this.clients.push(p);
    return p;
  }

  async simpleConsumer(group: string, subscriptions: Record<string, string | InstanceType<typeof rmq.FilterExpression>>, awaitDuration = 1000): Promise<SimpleConsumer> {
    const c = new rmq.SimpleConsumer({
      endpoints: this.endpoints,
      namespace: '',
      logger: quietClientLogger,
      consumerGroup: group,
      subscriptions: new Map(Object.entries(subscriptions)),
      awaitDuration,
    });
    await c.startup();
    this.clients.unshift(c);
    return c;
  }

  async pushConsumer(
    group: string,
    subscriptions: Record<string, string>,
    consume: PushConsumerOptions['messageListener']['consume'],
  ): Promise<PushConsumer> {
    const c = new rmq.PushConsumer({
      endpoints: this.endpoints,
      namespace: '',
      logger: quietClientLogger,
      consumerGroup: group,
      subscriptions: new Map(Object.entries(subscriptions)),
      messageListener: { consume },
    });
    await c.startup();
    this.clients.unshift(c);
    // The client's first assignment scan is a one-shot timer (1 s) that shutdown does not cancel:
    // a consumer shut down before it fires keeps receiving from a closed channel for ever. Waiting
    // for it also means the consumer is receiving when this returns.
    await checkFor(5000, 50, () => c.getQueueSize() > 0, `push consumer ${group} assignments`);
    return c;
  }

  /** Shuts one client down now (and forgets it). */
  async shutdown(c: { shutdown(): Promise<void> }): Promise<void> {
    const i = this.clients.indexOf(c);
    if (i >= 0) this.clients.splice(i, 1);
    await c.shutdown();
  }

  async close(): Promise<void> {
    // In parallel: each push consumer's shutdown waits for its own long polls and cache.
    await Promise.all(this.clients.splice(0).map((c) => c.shutdown().catch(() => undefined)));
  }
}

/**
 * A standalone broker with its gRPC endpoint and the 5.x clients opened through it; `close()`
 * shuts the clients down, then the endpoint, then the broker.
 */
export class GrpcHarness {
  readonly clients: GrpcClients;

  private constructor(
    readonly s: Standalone,
    readonly g: GrpcProxyHandle,
  ) {
    this.clients = new GrpcClients(g.address);
  }

  /** Short receive limits: a push consumer's shutdown waits out its in-flight long polls. */
  static async start(overrides: BrokerOverrides = {}, proxy: Partial<GrpcProxyOptions> = {}): Promise<GrpcHarness> {
    const s = await startStandalone(overrides);
    try {
      const g = await startGrpcProxy(s.controller, {
        host: '127.0.0.1',
        port: 0,
        minInvisibleTimeMsForReceive: 1000,
        maxLongPollingTimeoutMs: 1000,
        ...proxy,
      });
      return new GrpcHarness(s, g);
    } catch (err) {
      await s.close();
      throw err;
    }
  }

  get endpoints(): string {
    return this.g.address;
  }

  producer(...a: Parameters<GrpcClients['producer']>): Promise<Producer> {
    return this.clients.producer(...a);
  }

  simpleConsumer(...a: Parameters<GrpcClients['simpleConsumer']>): Promise<SimpleConsumer> {
    return this.clients.simpleConsumer(...a);
  }

  pushConsumer(...a: Parameters<GrpcClients['pushConsumer']>): Promise<PushConsumer> {
    return this.clients.pushConsumer(...a);
  }

  shutdown(c: { shutdown(): Promise<void> }): Promise<void> {
    return this.clients.shutdown(c);
  }

  async close(): Promise<void> {
    await this.clients.close();
    await this.g.close();
    await this.s.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

export async function receiveN(c: SimpleConsumer, count: number, timeoutMs: number, opts: { ack?: boolean; invisibleMs?: number } = {}): Promise<MessageView[]> {
  const out: MessageView[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    const got = await c.receive(Math.min(32, count - out.length), opts.invisibleMs ?? 10_000);
    for (const m of got) {
      out.push(m);
      if (opts.ack !== false) await c.ack(m);
    }
  }
  return out;
}

// ---- raw gRPC, for requests the real client validates away ----

type UnaryFn = (req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: any) => void) => void;
export interface RawClient {
  unary(method: string, req: unknown): Promise<any>;
  /** A server stream's frames, in order. */
  stream(method: string, req: unknown): Promise<any[]>;
  close(): void;
}

export function rawClient(address: string, clientId = `raw-${process.pid}-${Date.now()}`): RawClient {
  const Ctor = grpc.makeGenericClientConstructor(loadMessagingService(), 'MessagingService');
  const c = new Ctor(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, UnaryFn>;
  const md = (): grpc.Metadata => {
    const m = new grpc.Metadata();
    m.set('x-mq-client-id', clientId);
    m.set('x-mq-protocol', 'v2');
    return m;
  };
  return {
    unary: (method, req) =>
      new Promise((resolve, reject) => {
        c[method].call(c, req, md(), (err, res) => (err ? reject(err) : resolve(res)));
      }),
    stream: (method, req) =>
      new Promise((resolve, reject) => {
        const frames: any[] = [];
        const s = (c[method] as unknown as (r: unknown, m: grpc.Metadata) => grpc.ClientReadableStream<unknown>).call(c, req, md());
        s.on('data', (f) => frames.push(f));
        s.on('error', reject);
        s.on('end', () => resolve(frames));
      }),
    close: () => c.close(),
  };
}
