// SendMessage: validate each message as the Java proxy does, check it against the topic's
// message type, and hand it to the backend, which picks the queue (the nodejs client always
// names queue 0) and lets the broker route timers and transactions.
import { hostPortOf } from '../common/message-host.js';
import { BackendSendStatus } from './backend/proxy-backend.js';
import { Code, codeFromRemoting, OK_STATUS, ProxyError, status, type Status } from './grpc-code.js';
import { convertForSend, fromTimestamp, MessageType, type PbMessage } from './message-converter.js';
import { TRANSACTION_HANDLE_TTL_MS, type ProxyContext } from './proxy-context.js';
import { acceptedTypes, requireTopic, topicMessageType } from './route-activity.js';
import { errorStatus } from './grpc-handler.js';
import { LITE_MESSAGE_TYPE, sendLite } from './lite-activity.js';

interface SendEntry {
  status: Status;
  messageId: string;
  transactionId: string;
  offset: number;
  recallHandle: string;
}

const TYPE_NAMES: Record<number, string> = { 1: 'NORMAL', 2: 'FIFO', 3: 'DELAY', 4: 'TRANSACTION', 5: 'LITE' };

export async function sendMessage(ctx: ProxyContext, req: { messages?: PbMessage[] }, peer: string): Promise<unknown> {
  const messages = req.messages ?? [];
  if (messages.length === 0) throw new ProxyError(Code.BAD_REQUEST, 'SendMessage carries no message');
  const entries: SendEntry[] = [];
  // The 5.x clients send one message per call: that case builds nothing it does not answer with.
  for (const m of messages) entries.push(await sendOrFail(ctx, m, peer));
  let top = entries[0].status;
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].status.code !== top.code) {
      top = status(Code.MULTIPLE_RESULTS, 'the messages have different results');
      break;
    }
  }
  return { status: top, entries };
}

async function sendOrFail(ctx: ProxyContext, m: PbMessage, peer: string): Promise<SendEntry> {
  try {
    return await sendOne(ctx, m, peer);
  } catch (err) {
    return { status: errorStatus(ctx, err, 'SendMessage'), messageId: m.systemProperties?.messageId ?? '', transactionId: '', offset: 0, recallHandle: '' };
  }
}

async function sendOne(ctx: ProxyContext, m: PbMessage, peer: string): Promise<SendEntry> {
  const backend = ctx.backend;
  const c = convertForSend(m, backend.maxMessageSize);
  const tc = await requireTopic(ctx, c.topic);
  const accepted = acceptedTypes(tc);
  if (!accepted.includes(c.messageType)) {
    throw new ProxyError(
      Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
      `current message type not match with topic accept message types: topic ${c.topic} is ${topicMessageType(tc)}, message is ${TYPE_NAMES[c.messageType] ?? c.messageType}`,
    );
  }
  if (c.messageType === LITE_MESSAGE_TYPE) return sendLite(ctx, m, c, peer);
  if (c.messageType === MessageType.DELAY) {
    const at = fromTimestamp(m.systemProperties?.deliveryTimestamp);
    if (at === undefined) throw new ProxyError(Code.ILLEGAL_DELIVERY_TIME, 'a DELAY message needs a delivery_timestamp');
    const max = backend.timerMaxDelaySec * 1000;
    if (at - Date.now() > max) {
      throw new ProxyError(Code.ILLEGAL_DELIVERY_TIME, `delivery timestamp ${new Date(at).toISOString()} is more than ${backend.timerMaxDelaySec} s ahead (timerMaxDelaySec)`);
    }
  } else if (m.systemProperties?.deliveryTimestamp) {
    throw new ProxyError(Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE, 'delivery_timestamp is only allowed on DELAY messages');
  }
  if (c.messageType === MessageType.FIFO && !c.messageGroup) throw new ProxyError(Code.ILLEGAL_MESSAGE_GROUP, 'a FIFO message needs a message_group');
  if (c.messageType === MessageType.TRANSACTION) await backend.registerProducerTopic(c.topic);
  const r = await backend.sendMessage({
    topic: c.topic,
    body: c.body,
    properties: c.properties,
    sysFlag: c.sysFlag,
    bornTimestamp: c.bornTimestamp,
    bornHost: hostPortOf(peer),
    messageGroup: c.messageGroup,
  });
  if (c.messageType === MessageType.TRANSACTION) {
    ctx.transactions.set(c.messageId, {
      topic: c.topic,
      producerGroup: c.topic,
      tranStateTableOffset: r.queueOffset,
      commitLogOffset: r.commitLogOffset,
      brokerName: r.brokerName,
      expires: Date.now() + TRANSACTION_HANDLE_TTL_MS,
    });
  }
  const st = r.status === BackendSendStatus.FLUSH_DISK_TIMEOUT ? { code: codeFromRemoting(10), message: 'flush to disk timed out' } : OK_STATUS;
  return { status: st, messageId: c.messageId, transactionId: c.messageId, offset: r.queueOffset, recallHandle: r.recallHandle ?? '' };
}
