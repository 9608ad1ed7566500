// Offset-based consumption for 5.x pull consumers: PullMessage, UpdateOffset, GetOffset, QueryOffset.
import type * as grpc from '@grpc/grpc-js';
import { buildSubscriptionData } from '../broker/clients/subscription-data.js';
import { decodeRecord } from '../broker/index.js';
import { isMatchedByTagsCode } from '../broker/clients/subscription-data.js';
import { Code, OK_STATUS, ProxyError, status } from './grpc-code.js';
import { errorStatus } from './grpc-handler.js';
import { convertForDelivery, fromTimestamp, type PbTimestamp } from './message-converter.js';
import type { ProxyContext } from './proxy-context.js';
import { requireTopic } from './route-activity.js';

interface MqRef {
  topic?: { name?: string };
  id?: number;
}

function queueOf(ctx: ProxyContext, mq: MqRef | undefined): { topic: string; queueId: number } {
  const tc = requireTopic(ctx, mq?.topic?.name);
  const queueId = mq?.id ?? -1;
  if (queueId < 0 || queueId >= tc.readQueueNums) throw new ProxyError(Code.BAD_REQUEST, `queue ${queueId} does not exist in topic ${tc.topicName}`);
  return { topic: tc.topicName, queueId };
}

export function getOffset(ctx: ProxyContext, req: { group?: { name?: string }; messageQueue?: MqRef }): unknown {
  const { topic, queueId } = queueOf(ctx, req.messageQueue);
  const offset = ctx.broker.consumerOffsetManager.queryOffset(req.group?.name ?? '', topic, queueId);
  if (offset < 0) return { status: status(Code.OFFSET_NOT_FOUND, `group ${req.group?.name} has no offset on ${topic}/${queueId}`) };
  return { status: OK_STATUS, offset };
}

export function updateOffset(ctx: ProxyContext, req: { group?: { name?: string }; messageQueue?: MqRef; offset?: number }): unknown {
  const { topic, queueId } = queueOf(ctx, req.messageQueue);
  if (!req.group?.name) throw new ProxyError(Code.ILLEGAL_CONSUMER_GROUP, 'consumer group is empty');
  if ((req.offset ?? -1) < 0) throw new ProxyError(Code.ILLEGAL_OFFSET, `offset ${req.offset} is negative`);
  ctx.broker.consumerOffsetManager.commitOffset(req.group.name, topic, queueId, req.offset ?? 0);
  return { status: OK_STATUS };
}

export async function queryOffset(ctx: ProxyContext, req: { messageQueue?: MqRef; queryOffsetPolicy?: number; timestamp?: PbTimestamp }): Promise<unknown> {
  const { topic, queueId } = queueOf(ctx, req.messageQueue);
  const store = ctx.broker.store;
  switch (req.queryOffsetPolicy ?? 0) {
    case 0:
      return { status: OK_STATUS, offset: store.getMinOffsetInQueue(topic, queueId) };
    case 1:
      return { status: OK_STATUS, offset: store.getMaxOffsetInQueue(topic, queueId) };
    default:
      return { status: OK_STATUS, offset: await store.getOffsetInQueueByTime(topic, queueId, fromTimestamp(req.timestamp) ?? Date.now()) };
  }
}

export function pullMessage(ctx: ProxyContext): grpc.handleServerStreamingCall<
  { group?: { name?: string }; messageQueue?: MqRef; offset?: number; batchSize?: number; filterExpression?: { type?: number; expression?: string } },
  unknown
> {
  return (call) => {
    void (async () => {
      try {
        const req = call.request;
        const { topic, queueId } = queueOf(ctx, req.messageQueue);
        const sub = buildSubscriptionData(topic, req.filterExpression?.expression ?? '*', req.filterExpression?.type === 2 ? 'SQL92' : 'TAG');
        const r = await ctx.broker.store.getMessage(topic, queueId, req.offset ?? 0, Math.min(Math.max(1, req.batchSize ?? 32), 32), undefined, (c) =>
          isMatchedByTagsCode(sub, c),
        );
        const msgs = r.buffers.map((b, i) => ({ rec: decodeRecord(b), off: r.queueOffsets[i] }));
        call.write({ status: msgs.length > 0 ? OK_STATUS : status(Code.MESSAGE_NOT_FOUND, 'no new message') });
        for (const { rec, off } of msgs) call.write({ message: convertForDelivery(rec, { topic, queueId, queueOffset: off }) });
        call.write({ nextOffset: r.nextBeginOffset });
        call.end();
      } catch (err) {
        call.write({ status: errorStatus(ctx, err, 'PullMessage') });
        call.end();
      }
    })();
  };
}
