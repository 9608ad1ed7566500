// SendMessage: validate each message as the Java proxy does, check it against the topic's
// message type, let the broker pick the queue (the nodejs client always names queue 0), route
// timers and transactions, and store.
import type { MessageInput } from '../store/index.js';
import { javaStringHashCode } from '../common/tag-hash.js';
import { PutMessageStatus } from '../store/index.js';
import { hostPortOf } from '../broker/index.js';
import { Code, codeFromRemoting, OK_STATUS, ProxyError, status, type Status } from './grpc-code.js';
import { convertForSend, fromTimestamp, MessageType, type PbMessage } from './message-converter.js';
import { TRANSACTION_HANDLE_TTL_MS, type ProxyContext } from './proxy-context.js';
import { acceptedTypes, requireTopic, topicMessageType } from './route-activity.js';
import { errorStatus } from './grpc-handler.js';

interface SendEntry {
  status: Status;
  messageId: string;
  transactionId: string;
  offset: number;
  recallHandle: string;
}

const TYPE_NAMES: Record<number, string> = { 1: 'NORMAL', 2: 'FIFO', 3: 'DELAY', 4: 'TRANSACTION' };
let roundRobin = 0;

export async function sendMessage(ctx: ProxyContext, req: { messages?: PbMessage[] }, peer: string): Promise<unknown> {
  const messages = req.messages ?? [];
  if (messages.length === 0) throw new ProxyError(Code.BAD_REQUEST, 'SendMessage carries no message');
  const entries: SendEntry[] = [];
  for (const m of messages) {
    try {
      entries.push(await sendOne(ctx, m, peer));
    } catch (err) {
      entries.push({ status: errorStatus(ctx, err, 'SendMessage'), messageId: m.systemProperties?.messageId ?? '', transactionId: '', offset: 0, recallHandle: '' });
    }
  }
  const codes = new Set(entries.map((e) => e.status.code));
  const top = codes.size === 1 ? entries[0].status : status(Code.MULTIPLE_RESULTS, 'the messages have different results');
  return { status: top, entries };
}

async function sendOne(ctx: ProxyContext, m: PbMessage, peer: string): Promise<SendEntry> {
  const b = ctx.broker;
  const c = convertForSend(m, b.config.maxMessageSize);
  const tc = requireTopic(ctx, c.topic);
  const accepted = acceptedTypes(tc);
  if (!accepted.includes(c.messageType)) {
    throw new ProxyError(
      Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
      `current message type not match with topic accept message types: topic ${c.topic} is ${topicMessageType(tc)}, message is ${TYPE_NAMES[c.messageType] ?? c.messageType}`,
    );
  }
  if (c.messageType === MessageType.DELAY) {
    const at = fromTimestamp(m.systemProperties?.deliveryTimestamp);
    if (at === undefined) throw new ProxyError(Code.ILLEGAL_DELIVERY_TIME, 'a DELAY message needs a delivery_timestamp');
    const max = b.config.timerMaxDelaySec * 1000;
    if (at - Date.now() > max) {
      throw new ProxyError(Code.ILLEGAL_DELIVERY_TIME, `delivery timestamp ${new Date(at).toISOString()} is more than ${b.config.timerMaxDelaySec} s ahead (timerMaxDelaySec)`);
    }
  } else if (m.systemProperties?.deliveryTimestamp) {
    throw new ProxyError(Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE, 'delivery_timestamp is only allowed on DELAY messages');
  }
  if (c.messageType === MessageType.FIFO && !c.messageGroup) throw new ProxyError(Code.ILLEGAL_MESSAGE_GROUP, 'a FIFO message needs a message_group');
  const writeQueues = Math.max(1, tc.writeQueueNums);
  const queueId = c.messageGroup ? Math.abs(javaStringHashCode(c.messageGroup)) % writeQueues : roundRobin++ % writeQueues;
  const msg: MessageInput = {
    topic: c.topic,
    queueId,
    flag: 0,
    body: c.body,
    properties: c.properties + `CLUSTER\u0001${b.config.brokerClusterName}\u0002`,
    sysFlag: c.sysFlag,
    bornTimestamp: c.bornTimestamp,
    bornHost: hostPortOf(peer),
    storeHost: b.storeHost,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
  };
  const routed = b.messageRouter.route(msg, c.topic);
  const r = await b.store.putMessage(msg);
  b.stats.recordPut(c.topic, r);
  if (r.status !== PutMessageStatus.PUT_OK && r.status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) {
    const code = r.status === PutMessageStatus.FLUSH_SLAVE_TIMEOUT ? Code.SLAVE_PERSISTENCE_TIMEOUT : Code.INTERNAL_SERVER_ERROR;
    throw new ProxyError(code, `store refused the message: ${String(r.status)} ${r.remark ?? ''}`.trim());
  }
  if (c.messageType === MessageType.TRANSACTION) {
    ctx.transactions.set(c.messageId, {
      topic: c.topic,
      producerGroup: c.topic,
      tranStateTableOffset: r.queueOffset,
      commitLogOffset: r.wroteOffset,
      expires: Date.now() + TRANSACTION_HANDLE_TTL_MS,
    });
  }
  const st = r.status === PutMessageStatus.FLUSH_DISK_TIMEOUT ? { code: codeFromRemoting(10), message: 'flush to disk timed out' } : OK_STATUS;
  return { status: st, messageId: c.messageId, transactionId: c.messageId, offset: r.queueOffset, recallHandle: routed.recallHandle ?? '' };
}
