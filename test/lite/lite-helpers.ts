// Shared setup for the lite topic suites (issue 18): a LITE parent topic with its limits as
// attributes, and the real client's LitePushConsumer opened through the harness.
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startGrpcProxy, type GrpcProxyHandle } from '../../src/proxy/index.js';
import { startStandalone, type BrokerOverrides, type Standalone as StandaloneT } from '../helpers/standalone.js';
import { GrpcClients, quietClientLogger, rmq, type MessageView, type Producer } from '../compat/helpers/grpc.js';

export const { ConsumeResult, LitePushConsumerBuilder, OffsetOption } = rmq as unknown as {
  ConsumeResult: typeof rmq.ConsumeResult;
  LitePushConsumerBuilder: new () => LiteBuilder;
  OffsetOption: { MIN_OFFSET: unknown; MAX_OFFSET: unknown; LAST_OFFSET: unknown; ofTailN(n: number): unknown; ofTimestamp(t: number): unknown };
};

export interface LitePushConsumer {
  subscribeLite(liteTopic: string, offsetOption?: unknown): Promise<void>;
  unsubscribeLite(liteTopic: string): Promise<void>;
  getLiteTopicSet(): Set<string>;
  shutdown(): Promise<void>;
}

interface LiteBuilder {
  bindTopic(t: string): LiteBuilder;
  setClientConfiguration(o: Record<string, unknown>): LiteBuilder;
  setConsumerGroup(g: string): LiteBuilder;
  setMessageListener(l: { consume(m: MessageView): Promise<unknown> }): LiteBuilder;
  build(): Promise<LitePushConsumer>;
}

export interface ParentOptions {
  queues?: number;
  /** Seconds. */
  liteTopicExpiration?: number;
  maxLiteTopicNum?: number;
  liteSubscriptionQuota?: number;
}

export async function createLiteParent(s: StandaloneT, topic: string, o: ParentOptions = {}): Promise<void> {
  const attrs = ['+message.type=LITE'];
  if (o.liteTopicExpiration !== undefined) attrs.push(`+liteTopicExpiration=${o.liteTopicExpiration}`);
  if (o.maxLiteTopicNum !== undefined) attrs.push(`+maxLiteTopicNum=${o.maxLiteTopicNum}`);
  if (o.liteSubscriptionQuota !== undefined) attrs.push(`+liteSubscriptionQuota=${o.liteSubscriptionQuota}`);
  const q = o.queues ?? 4;
  const rc = new RemotingClient();
  try {
    const ext = { topic, readQueueNums: q, writeQueueNums: q, perm: 6, attributes: attrs.join(',') };
    const resp = await rc.invoke(s.brokerAddr, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, ext));
    if (resp.code !== ResponseCode.SUCCESS) throw new Error(`updateTopic ${topic}: ${resp.code} ${resp.remark ?? ''}`);
  } finally {
    await rc.close();
  }
}

/** A started LitePushConsumer, shut down with the harness; logs go to `log` when given. */
export async function litePushConsumer(
  h: LiteHarness,
  group: string,
  parent: string,
  consume: (m: MessageView) => Promise<unknown>,
  log?: string[],
): Promise<LitePushConsumer> {
  const logger = log ? { ...quietClientLogger, warn: (...a: unknown[]) => log.push(a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ')) } : quietClientLogger;
  const c = await new LitePushConsumerBuilder()
    .bindTopic(parent)
    .setClientConfiguration({ endpoints: h.endpoints, namespace: '', logger, requestTimeout: 5000 })
    .setConsumerGroup(group)
    .setMessageListener({ consume })
    .build();
  (h.clients as unknown as { clients: { shutdown(): Promise<void> }[] }).clients.unshift(c);
  // The first assignment scan is a one-shot timer that shutdown does not cancel (see GrpcClients.pushConsumer).
  await checkFor(5000, 50, () => (c as unknown as { getQueueSize(): number }).getQueueSize() > 0, `lite consumer ${group} assignment`);
  return c;
}

/** Sends body to parent's lite topic through the real producer. */
export function sendLite(p: Producer, parent: string, liteTopic: string, body: string, tag?: string): Promise<{ messageId: string }> {
  return p.send({ topic: parent, liteTopic, body: Buffer.from(body), ...(tag ? { tag } : {}) } as Parameters<Producer['send']>[0]);
}

/** A standalone with its gRPC endpoint, optionally over a kept data directory (restart tests). */
export class LiteHarness {
  readonly clients: GrpcClients;

  private constructor(
    readonly s: StandaloneT,
    readonly g: GrpcProxyHandle,
  ) {
    this.clients = new GrpcClients(g.address);
  }

  static async start(dataDir?: string, overrides: BrokerOverrides = {}): Promise<LiteHarness> {
    const s = await startStandalone(overrides, dataDir);
    try {
      const g = await startGrpcProxy(s.controller, { host: '127.0.0.1', port: 0, minInvisibleTimeMsForReceive: 1000, maxLongPollingTimeoutMs: 1000 });
      return new LiteHarness(s, g);
    } catch (err) {
      await s.close();
      throw err;
    }
  }

  get endpoints(): string {
    return this.g.address;
  }

  producer(topic: string): Promise<Producer> {
    return this.clients.producer(topic);
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
