// ReceiveMessage (server stream: status, messages, delivery timestamp), AckMessage,
// ChangeInvisibleDuration and ForwardMessageToDeadLetterQueue, on the broker's pop service.
import type * as grpc from '@grpc/grpc-js';
import { compileSql92, FilterSyntaxError } from '../common/filter/index.js';
import type { FilterExpression } from './backend/proxy-backend.js';
import type { AckResult } from './backend/proxy-backend.js';
import { Code, OK_STATUS, ProxyError, status, type Status } from './grpc-code.js';
import { clientIdOf, errorStatus } from './grpc-handler.js';
import { encodeDelivery } from './delivery-encoder.js';
import { convertForDelivery, fromDuration, toTimestamp, type PbDuration } from './message-converter.js';
import type { ProxyContext } from './proxy-context.js';
import { ResponseBatch } from './response-batch.js';
import { requireTopic, topicMessageType } from './route-activity.js';
import { isLiteHandle, liteAck, liteChangeInvisible, liteForwardToDeadLetter, receiveLite } from './lite-activity.js';

const FilterType = { TAG: 1, SQL: 2 } as const;
const MAX_INVISIBLE_MS = 12 * 3600_000;
const MAX_BATCH = 32;

interface ReceiveRequest {
  group?: { name?: string };
  messageQueue?: { topic?: { name?: string }; id?: number; broker?: { name?: string } };
  filterExpression?: { type?: number; expression?: string };
  batchSize?: number;
  invisibleDuration?: PbDuration;
  autoRenew?: boolean;
  longPollingTimeout?: PbDuration;
  attemptId?: string;
}

async function requireGroup(ctx: ProxyContext, name: string | undefined): Promise<{ name: string; maxAttempts: number; fifo: boolean }> {
  if (!name) throw new ProxyError(Code.ILLEGAL_CONSUMER_GROUP, 'consumer group is empty');
  const sg = await ctx.backend.getGroupConfig(name);
  if (!sg) throw new ProxyError(Code.CONSUMER_GROUP_NOT_FOUND, `consumer group ${name} not found; create it first (apogee admin updateSubGroup -g ${name})`);
  if (!sg.consumeEnable) throw new ProxyError(Code.FORBIDDEN, `consumer group ${name} may not consume (consumeEnable=false)`);
  return { name, maxAttempts: sg.retryMaxTimes + 1, fifo: sg.consumeMessageOrderly };
}

/**
 * Checks the filter here (a syntax error is the client's to hear about), then passes it on as
 * given; the broker compiles it again where the messages are. Any tag expression is valid.
 */
function filterOf(ctx: ProxyContext, f: ReceiveRequest['filterExpression']): FilterExpression {
  const expressionType = f?.type === FilterType.SQL ? 'SQL92' : 'TAG';
  const expression = f?.expression ?? '*';
  if (expressionType === 'SQL92') {
    const sql = expression.trim();
    try {
      compileSql92(sql);
    } catch (err) {
      const why = err instanceof FilterSyntaxError ? err.message : String(err);
      throw new ProxyError(Code.ILLEGAL_FILTER_EXPRESSION, `parse the consumer's subscription[${sql}] failed: ${why}`);
    }
    if (!ctx.backend.enablePropertyFilter) {
      throw new ProxyError(Code.ILLEGAL_FILTER_EXPRESSION, 'SQL92 filtering is disabled on this broker (enablePropertyFilter=false)');
    }
  }
  return { expressionType, expression };
}

export function receiveMessage(ctx: ProxyContext): grpc.handleServerStreamingCall<ReceiveRequest, unknown> {
  return (call) => {
    const abort = new AbortController();
    let finished = false;
    // grpc-js may report 'cancelled' for a stream that already ended; only a live receive is aborted.
    call.on('cancelled', () => {
      if (!finished) abort.abort();
    });
    const end = (st: Status): void => {
      finished = true;
      if (!call.cancelled) call.write(new ResponseBatch([{ status: st }, { deliveryTimestamp: toTimestamp(Date.now()) }]));
      call.end();
    };
    void (async () => {
      try {
        const req = call.request;
        const clientId = clientIdOf(call);
        ctx.clients.touch(clientId);
        const tc = await requireTopic(ctx, req.messageQueue?.topic?.name);
        const topic = tc.topicName;
        const group = await requireGroup(ctx, req.group?.name);
        const filter = filterOf(ctx, req.filterExpression);
        const invisibleMs = fromDuration(req.invisibleDuration);
        const autoRenew = !!req.autoRenew;
        if (!autoRenew) {
          if (invisibleMs === undefined) throw new ProxyError(Code.ILLEGAL_INVISIBLE_TIME, 'invisible_duration is required unless auto_renew is set');
          if (invisibleMs < ctx.minInvisibleTimeMsForReceive || invisibleMs > MAX_INVISIBLE_MS) {
            throw new ProxyError(
              Code.ILLEGAL_INVISIBLE_TIME,
              `invisible duration ${invisibleMs} ms is out of range [${ctx.minInvisibleTimeMsForReceive}, ${MAX_INVISIBLE_MS}] ms`,
            );
          }
        }
        const batch = req.batchSize ?? 0;
        if (batch <= 0) throw new ProxyError(Code.BAD_REQUEST, `batch_size must be positive, got ${batch}`);
        const maxPoll = ctx.maxLongPollingTimeoutMs;
        const poll = Math.min(Math.max(0, fromDuration(req.longPollingTimeout) ?? maxPoll), maxPoll);
        if (topicMessageType(tc) === 'LITE') {
          const lite = { clientId, group: group.name, parent: topic, maxNums: Math.min(batch, MAX_BATCH), invisibleMs: invisibleMs ?? 0, autoRenew, pollMs: poll };
          const msgs = await receiveLite(ctx, { ...lite, maxAttempts: group.maxAttempts }, abort.signal);
          if (call.cancelled) return;
          if (msgs.length === 0) return end(status(Code.MESSAGE_NOT_FOUND, 'no new message'));
          call.write(new ResponseBatch([{ status: OK_STATUS }, ...msgs, { deliveryTimestamp: toTimestamp(Date.now()) }]));
          finished = true;
          call.end();
          return;
        }
        const popped = await ctx.backend.pop(
          {
            group: group.name,
            topic,
            maxNums: Math.min(batch, MAX_BATCH),
            invisibleTimeMs: invisibleMs ?? 0,
            autoRenew,
            clientId,
            filter,
            fifo: group.fifo,
            pollTimeMs: poll,
            maxDeliveryAttempts: group.maxAttempts,
            brokerName: req.messageQueue?.broker?.name || undefined,
          },
          abort.signal,
        );
        if (call.cancelled) return;
        if (popped.length === 0) {
          end(status(Code.MESSAGE_NOT_FOUND, 'no new message'));
          return;
        }
        const now = Date.now();
        const responses: unknown[] = [{ status: OK_STATUS }];
        // p carries every DeliveryExtras field.
        for (const p of popped) responses.push(encodeDelivery(p.record, p, now) ?? { message: convertForDelivery(p.record, p, now) });
        responses.push({ deliveryTimestamp: toTimestamp(now) });
        call.write(new ResponseBatch(responses));
        finished = true;
        call.end();
      } catch (err) {
        end(errorStatus(ctx, err, 'ReceiveMessage'));
      }
    })();
  };
}

function handleStatus(r: AckResult): Status {
  if (r === 'OK') return OK_STATUS;
  if (r === 'EXPIRED') return status(Code.INVALID_RECEIPT_HANDLE, 'receipt handle has expired: the message became visible again and will be redelivered');
  return status(Code.INVALID_RECEIPT_HANDLE, 'receipt handle is invalid: unknown, already acknowledged or superseded by a newer handle');
}

export async function ackMessage(
  ctx: ProxyContext,
  req: { group?: { name?: string }; topic?: { name?: string }; entries?: { messageId?: string; receiptHandle?: string }[] },
): Promise<unknown> {
  const group = await requireGroup(ctx, req.group?.name);
  const topic = (await requireTopic(ctx, req.topic?.name)).topicName;
  const given = req.entries ?? [];
  if (given.length === 0) throw new ProxyError(Code.BAD_REQUEST, 'AckMessage carries no entry');
  const ackOne = async (e: { messageId?: string; receiptHandle?: string }) => ({
    messageId: e.messageId ?? '',
    receiptHandle: e.receiptHandle ?? '',
    status: handleStatus(isLiteHandle(e.receiptHandle) ? await liteAck(ctx, group.name, topic, e.receiptHandle!) : await ctx.backend.ack(group.name, topic, e.receiptHandle ?? '')),
  });
  // The 5.x clients ack one message per call: no Promise.all or array mapping for that case.
  const entries = given.length === 1 ? [await ackOne(given[0])] : await Promise.all(given.map(ackOne));
  let top = entries[0].status;
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].status.code !== top.code) {
      top = status(Code.MULTIPLE_RESULTS, 'the entries have different results');
      break;
    }
  }
  return { status: top, entries };
}

export async function changeInvisibleDuration(
  ctx: ProxyContext,
  req: { group?: { name?: string }; topic?: { name?: string }; receiptHandle?: string; invisibleDuration?: PbDuration; messageId?: string },
): Promise<unknown> {
  const group = await requireGroup(ctx, req.group?.name);
  const topic = (await requireTopic(ctx, req.topic?.name)).topicName;
  const ms = fromDuration(req.invisibleDuration) ?? 0;
  if (ms < 0 || ms > MAX_INVISIBLE_MS) throw new ProxyError(Code.ILLEGAL_INVISIBLE_TIME, `invisible duration ${ms} ms is out of range [0, ${MAX_INVISIBLE_MS}] ms`);
  const h = req.receiptHandle ?? '';
  const r = isLiteHandle(h) ? await liteChangeInvisible(ctx, group.name, topic, h, ms) : await ctx.backend.changeInvisibleTime(group.name, topic, h, ms);
  if (typeof r === 'string') return { status: handleStatus(r) };
  return { status: OK_STATUS, receiptHandle: r.handle };
}

export async function forwardToDeadLetterQueue(
  ctx: ProxyContext,
  req: { group?: { name?: string }; topic?: { name?: string }; receiptHandle?: string },
): Promise<unknown> {
  const group = await requireGroup(ctx, req.group?.name);
  const topic = (await requireTopic(ctx, req.topic?.name)).topicName;
  const h = req.receiptHandle ?? '';
  return { status: handleStatus(isLiteHandle(h) ? await liteForwardToDeadLetter(ctx, group.name, topic, h) : await ctx.backend.forwardToDeadLetter(group.name, topic, h)) };
}
