// Telemetry: the client sends its settings, the server answers at once on the same stream with
// the merged settings (the nodejs client waits forever otherwise); the stream is also how
// orphaned transactions are recovered from 5.x producers.
import type * as grpc from '@grpc/grpc-js';
import type { MessageRecord } from '../common/message-codec.js';
import { MessageConst } from '../common/message-const.js';
import { getPropertyFromString } from '../common/message-properties.js';
import { ClientType, type GrpcClient, type PbSettings } from './client-manager.js';
import { OK_STATUS } from './grpc-code.js';
import { clientIdOf, errorStatus } from './grpc-handler.js';
import type { SubscriptionGroupConfig } from './backend/proxy-backend.js';
import { convertForDelivery, toDuration } from './message-converter.js';
import { TRANSACTION_HANDLE_TTL_MS, type ProxyContext } from './proxy-context.js';
import { LiteClientType, liteSettings } from './lite-activity.js';

/** The ladder of delay levels 3.. (10 s, 30 s, 1 min ... 2 h), RocketMQ's customized policy. */
function ladder(ctx: ProxyContext): unknown[] {
  return ctx.backend.delayLevelsMs.slice(2).map(toDuration);
}

function consumerBackoff(ctx: ProxyContext, sg: SubscriptionGroupConfig | undefined): unknown {
  const maxAttempts = (sg?.retryMaxTimes ?? 16) + 1;
  const policy = sg?.groupRetryPolicy;
  if (policy?.type === 'CUSTOMIZED') return { maxAttempts, customizedBackoff: { next: ladder(ctx) } };
  const e = policy?.exponentialRetryPolicy ?? { initial: 5000, max: 7_200_000, multiplier: 2 };
  return { maxAttempts, exponentialBackoff: { initial: toDuration(e.initial), max: toDuration(e.max), multiplier: e.multiplier } };
}

export async function settingsReply(ctx: ProxyContext, c: GrpcClient, s: PbSettings): Promise<PbSettings & Record<string, unknown>> {
  const base = { clientType: s.clientType, accessPoint: s.accessPoint, requestTimeout: s.requestTimeout, userAgent: s.userAgent };
  if (s.clientType === ClientType.PRODUCER) {
    return {
      ...base,
      backoffPolicy: { maxAttempts: 3, exponentialBackoff: { initial: toDuration(10), max: toDuration(1000), multiplier: 2 } },
      publishing: { topics: s.publishing?.topics ?? [], maxBodySize: ctx.backend.maxMessageSize, validateMessageType: true },
    };
  }
  const group = s.subscription?.group?.name ?? c.group;
  const sg = group ? await ctx.backend.getGroupConfig(group) : undefined;
  const isLite = s.clientType === LiteClientType.LITE_PUSH_CONSUMER || s.clientType === LiteClientType.LITE_SIMPLE_CONSUMER;
  const lite = isLite ? await liteSettings(ctx, s.subscription?.subscriptions?.[0]?.topic?.name) : {};
  return {
    ...base,
    backoffPolicy: consumerBackoff(ctx, sg),
    subscription: {
      group: s.subscription?.group,
      subscriptions: s.subscription?.subscriptions ?? [],
      fifo: sg?.consumeMessageOrderly ?? false,
      receiveBatchSize: 32,
      longPollingTimeout: toDuration(ctx.maxLongPollingTimeoutMs),
      ...lite,
    },
  };
}

export function telemetry(ctx: ProxyContext): grpc.handleBidiStreamingCall<Record<string, unknown>, unknown> {
  return (call) => {
    const clientId = clientIdOf(call);
    const client = ctx.clients.touch(clientId);
    client.telemetry = call as unknown as grpc.ServerDuplexStream<unknown, unknown>;
    const detach = (): void => {
      if (client.telemetry === (call as unknown)) client.telemetry = undefined;
    };
    call.on('data', (cmd: { settings?: PbSettings; threadStackTrace?: unknown; verifyMessageResult?: unknown }) => {
      ctx.clients.touch(clientId);
      if (cmd.settings) {
        const settings = cmd.settings;
        const c = ctx.clients.applySettings(clientId, settings);
        void answerSettings(ctx, call, c, settings);
      } else {
        ctx.logger.debug({ clientId, cmd: Object.keys(cmd) }, 'telemetry command from client');
      }
    });
    call.on('end', () => {
      detach();
      call.end();
    });
    call.on('error', detach);
    call.on('cancelled', detach);
  };
}

/** Answers a settings command on its stream; a producer's topics are registered for check-backs first. */
async function answerSettings(
  ctx: ProxyContext,
  call: grpc.ServerDuplexStream<Record<string, unknown>, unknown>,
  c: GrpcClient,
  s: PbSettings,
): Promise<void> {
  try {
    if (s.clientType === ClientType.PRODUCER) {
      for (const t of s.publishing?.topics ?? []) if (t.name) await ctx.backend.registerProducerTopic(t.name);
    }
    call.write({ status: OK_STATUS, settings: await settingsReply(ctx, c, s) });
  } catch (err) {
    call.write({ status: errorStatus(ctx, err, 'Telemetry settings') });
  }
}

/** Broker check-back of a half message sent by a 5.x producer (PGROUP = topic): ask a producer of that topic. */
export function recoverOrphanedTransaction(ctx: ProxyContext, m: MessageRecord, realTopic: string, brokerName: string): void {
  const group = getPropertyFromString(m.properties, MessageConst.PROPERTY_PRODUCER_GROUP);
  if (group !== realTopic) return; // a 4.x producer group: the broker asks it over remoting
  const txId = getPropertyFromString(m.properties, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
  if (!txId) return;
  ctx.transactions.set(txId, {
    topic: realTopic,
    producerGroup: group,
    tranStateTableOffset: m.queueOffset,
    commitLogOffset: m.commitLogOffset,
    brokerName,
    expires: Date.now() + TRANSACTION_HANDLE_TTL_MS,
  });
  const producer = ctx.clients.producersOf(realTopic)[0];
  if (!producer?.telemetry) return;
  const queueId = Number(getPropertyFromString(m.properties, MessageConst.PROPERTY_REAL_QUEUE_ID) ?? 0);
  producer.telemetry.write({
    status: OK_STATUS,
    recoverOrphanedTransactionCommand: {
      message: convertForDelivery({ ...m, topic: realTopic }, { topic: realTopic, queueId, queueOffset: m.queueOffset }),
      transactionId: txId,
    },
  });
}
