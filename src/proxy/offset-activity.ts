// Offset-based consumption for 5.x pull consumers: PullMessage, UpdateOffset, GetOffset, QueryOffset.
import type * as grpc from '@grpc/grpc-js';
import { ResponseBatch } from './response-batch.js';
import { Code, OK_STATUS, ProxyError, status } from './grpc-code.js';
import { errorStatus } from './grpc-handler.js';
import { convertForDelivery, fromTimestamp, type PbTimestamp } from './message-converter.js';
import type { ProxyContext } from './proxy-context.js';
import { requireTopic } from './route-activity.js';

interface MqRef {
  topic?: { name?: string };
  id?: number;
  broker?: { name?: string };
}

const QueryOffsetPolicy = { BEGINNING: 0, END: 1, TIMESTAMP: 2 } as const;

/** The queue a request names: topic, id and broker group (the topic's first group when none is named). */
async function queueOf(ctx: ProxyContext, mq: MqRef | undefined): Promise<{ topic: string; queueId: number; brokerName: string }> {
  const tc = await requireTopic(ctx, mq?.topic?.name);
  const brokers = await ctx.backend.brokersOf(tc.topicName);
  const named = mq?.broker?.name;
  const b = named ? brokers.find((x) => x.name === named) : brokers[0];
  if (!b) throw new ProxyError(Code.BAD_REQUEST, `broker group ${named ?? '(none)'} does not serve topic ${tc.topicName}`);
  // proto3 leaves a zero out of the wire: an absent id is queue 0 (the real 5.x client's queue 0
  // arrived as "queue -1 does not exist" before).
  const queueId = mq?.id ?? 0;
  if (queueId < 0 || queueId >= b.readQueueNums) throw new ProxyError(Code.BAD_REQUEST, `queue ${queueId} does not exist in topic ${tc.topicName} on ${b.name}`);
  return { topic: tc.topicName, queueId, brokerName: b.name };
}

export async function getOffset(ctx: ProxyContext, req: { group?: { name?: string }; messageQueue?: MqRef }): Promise<unknown> {
  const { topic, queueId, brokerName } = await queueOf(ctx, req.messageQueue);
  const offset = await ctx.backend.queryConsumerOffset(req.group?.name ?? '', topic, queueId, brokerName);
  if (offset < 0) return { status: status(Code.OFFSET_NOT_FOUND, `group ${req.group?.name} has no offset on ${topic}/${queueId}`) };
  return { status: OK_STATUS, offset };
}

export async function updateOffset(ctx: ProxyContext, req: { group?: { name?: string }; messageQueue?: MqRef; offset?: number }): Promise<unknown> {
  const { topic, queueId, brokerName } = await queueOf(ctx, req.messageQueue);
  if (!req.group?.name) throw new ProxyError(Code.ILLEGAL_CONSUMER_GROUP, 'consumer group is empty');
  if ((req.offset ?? -1) < 0) throw new ProxyError(Code.ILLEGAL_OFFSET, `offset ${req.offset} is negative`);
  await ctx.backend.commitConsumerOffset(req.group.name, topic, queueId, req.offset ?? 0, brokerName);
  return { status: OK_STATUS };
}

export async function queryOffset(ctx: ProxyContext, req: { messageQueue?: MqRef; queryOffsetPolicy?: number; timestamp?: PbTimestamp }): Promise<unknown> {
  const { topic, queueId, brokerName } = await queueOf(ctx, req.messageQueue);
  switch (req.queryOffsetPolicy ?? QueryOffsetPolicy.BEGINNING) {
    case QueryOffsetPolicy.BEGINNING:
      return { status: OK_STATUS, offset: await ctx.backend.getMinOffset(topic, queueId, brokerName) };
    case QueryOffsetPolicy.END:
      return { status: OK_STATUS, offset: await ctx.backend.getMaxOffset(topic, queueId, brokerName) };
    default:
      return { status: OK_STATUS, offset: await ctx.backend.searchOffsetByTime(topic, queueId, fromTimestamp(req.timestamp) ?? Date.now(), brokerName) };
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
        const { topic, queueId, brokerName } = await queueOf(ctx, req.messageQueue);
        const r = await ctx.backend.getMessage({
          brokerName,
          group: req.group?.name ?? '',
          topic,
          queueId,
          offset: req.offset ?? 0,
          maxNums: req.batchSize ?? 32,
          filter: { expressionType: req.filterExpression?.type === 2 ? 'SQL92' : 'TAG', expression: req.filterExpression?.expression ?? '*' },
        });
        // One batch (response-batch.ts): written as one, and counted at once against grpcMaxPendingWriteBytes.
        const responses: unknown[] = [{ status: r.messages.length > 0 ? OK_STATUS : status(Code.MESSAGE_NOT_FOUND, 'no new message') }];
        for (const { record, queueOffset } of r.messages) responses.push({ message: convertForDelivery(record, { topic, queueId, queueOffset }) });
        responses.push({ nextOffset: r.nextBeginOffset });
        call.write(new ResponseBatch(responses));
        call.end();
      } catch (err) {
        call.write({ status: errorStatus(ctx, err, 'PullMessage') });
        call.end();
      }
    })();
  };
}
