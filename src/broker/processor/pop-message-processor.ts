// POP_MESSAGE, ACK_MESSAGE and CHANGE_MESSAGE_INVISIBLETIME over remoting, answered from the
// broker's PopService, so a proxy in another process ("cluster" mode) can serve 5.x receives.
// Header names are Java's; our extras: autoRenew, clientId, maxDeliveryAttempts on POP_MESSAGE and
// deadLetter on ACK_MESSAGE (forward to %DLQ%<group>, then ack, in one step).
import { encodeMessage } from '../../common/message-codec.js';
import { MessageConst } from '../../common/message-const.js';
import { setPropertyInString } from '../../common/property-edit.js';
import { createResponse, decodeHeader, ResponseCode, type RemotingChannel, type RemotingCommand } from '../../remoting/index.js';
import {
  ACK_FAILURE_RESPONSE_HEADER,
  ACK_MESSAGE_HEADER,
  AckResultHeader,
  CHANGE_INVISIBLE_TIME_HEADER,
  CHANGE_INVISIBLE_TIME_RESPONSE_HEADER,
  encodeHeader,
  POP_MESSAGE_HEADER,
  POP_MESSAGE_RESPONSE_HEADER,
  type AckResult,
  type PoppedMessage,
} from '../../remoting/protocol/index.js';
import type { MessageStore } from '../../store/index.js';
import { buildSubscriptionData } from '../clients/subscription-data.js';
import type { ConsumerOffsetManager } from '../consumer-offset-manager.js';
import type { PopService } from '../pop/pop-service.js';
import type { PopConsumeService } from '../service/pop-consume-service.js';
import type { TopicConfigManager } from '../topic-config-manager.js';

/** Java caps a pop batch at 32 and holds a pop at most about 20 s. */
const MAX_POP_NUMS = 32;
const MAX_POLL_MS = 30_000;
/** A gRPC client seen through a proxy connection counts as alive this long after its last pop. */
const REMOTE_CLIENT_ALIVE_MS = 120_000;

export interface PopProcessorDeps {
  consume: PopConsumeService;
  pops: PopService;
  topics: TopicConfigManager;
  store: MessageStore;
  offsets: ConsumerOffsetManager;
}

export class PopMessageProcessor {
  private readonly pending = new Map<RemotingChannel, Set<AbortController>>();
  private readonly remoteClients = new Map<string, { channel: RemotingChannel; lastSeen: number }>();

  constructor(private readonly d: PopProcessorDeps) {
    const ps = d.pops;
    const prev = ps.clientAlive;
    ps.clientAlive = (id) => this.remoteClientAlive(id) || prev(id);
  }

  /** A closed connection aborts the pops it was waiting on. */
  readonly onChannelClose = (ch: RemotingChannel): void => {
    const set = this.pending.get(ch);
    if (set) for (const a of set) a.abort();
    this.pending.delete(ch);
  };

  private remoteClientAlive(clientId: string): boolean {
    const c = this.remoteClients.get(clientId);
    if (!c) return false;
    if (c.channel.closed || Date.now() - c.lastSeen > REMOTE_CLIENT_ALIVE_MS) {
      this.remoteClients.delete(clientId);
      return false;
    }
    return true;
  }

  readonly popMessage = async (req: RemotingCommand, ch: RemotingChannel): Promise<RemotingCommand | null> => {
    const h = decodeHeader(POP_MESSAGE_HEADER, req.extFields);
    const sub = buildSubscriptionData(h.topic, h.exp || '*', h.expType);
    const sg = this.d.consume.checkPop(h.consumerGroup, h.topic, sub);
    const autoRenew = h.autoRenew ?? false;
    const clientId = h.clientId ?? '';
    if (clientId) this.remoteClients.set(clientId, { channel: ch, lastSeen: Date.now() });
    const pollMs = Math.min(Math.max(0, h.pollTime ?? 0), MAX_POLL_MS);
    const abort = new AbortController();
    this.track(ch, abort, true);
    let popped: PoppedMessage[];
    try {
      popped = await this.d.consume.pop(
        {
          group: h.consumerGroup,
          topic: h.topic,
          maxNums: Math.min(h.maxMsgNums, MAX_POP_NUMS),
          invisibleTimeMs: h.invisibleTime,
          autoRenew,
          clientId,
          sub,
          fifo: h.order ?? sg.consumeMessageOrderly,
          pollTimeMs: pollMs,
          maxDeliveryAttempts: h.maxDeliveryAttempts ?? sg.retryMaxTimes + 1,
        },
        'remoting',
        ch.remoteAddress,
        abort.signal,
      );
    } finally {
      this.track(ch, abort, false);
    }
    if (ch.closed) return null;
    if (popped.length === 0) {
      return createResponse(pollMs > 0 ? ResponseCode.POLLING_TIMEOUT : ResponseCode.PULL_NOT_FOUND, 'no new message');
    }
    return this.popResponse(h.topic, h.consumerGroup, popped);
  };

  private track(ch: RemotingChannel, a: AbortController, add: boolean): void {
    let set = this.pending.get(ch);
    if (add) {
      if (!set) this.pending.set(ch, (set = new Set()));
      set.add(a);
    } else if (set) {
      set.delete(a);
      if (set.size === 0) this.pending.delete(ch);
    }
  }

  /**
   * Body: each record re-encoded with POP_CK = its receipt handle and RECONSUMETIMES = delivery
   * attempt - 1 (FIFO redeliveries are counted by the pop service, not by the stored record).
   * popTime + invisibleTime is the first message's invisible-until; later queues of the same pop
   * may differ by the milliseconds the pop took.
   */
  private popResponse(topic: string, group: string, popped: PoppedMessage[]): RemotingCommand {
    const parts: Buffer[] = [];
    for (const p of popped) {
      parts.push(
        encodeMessage({
          ...p.record,
          properties: setPropertyInString(p.record.properties, MessageConst.PROPERTY_POP_CK, p.receiptHandle),
          reconsumeTimes: p.deliveryAttempt - 1,
        }),
      );
    }
    const popTime = Date.now();
    const invisibleTime = Math.max(0, popped[0].invisibleUntil - popTime);
    return createResponse(
      ResponseCode.SUCCESS,
      undefined,
      encodeHeader(POP_MESSAGE_RESPONSE_HEADER, { popTime, invisibleTime, reviveQid: 0, restNum: this.restNum(topic, group, popped.length) }),
      parts,
    );
  }

  /** An estimate: messages past the group's committed offsets, less this batch. */
  private restNum(topic: string, group: string, taken: number): number {
    const d = this.d;
    const tc = d.topics.selectTopicConfig(topic);
    let rest = 0;
    for (let q = 0; q < (tc?.readQueueNums ?? 0); q++) {
      const max = d.store.getMaxOffsetInQueue(topic, q);
      rest += Math.max(0, max - Math.max(0, d.offsets.queryOffset(group, topic, q)));
    }
    return Math.max(0, rest - taken);
  }

  readonly ackMessage = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(ACK_MESSAGE_HEADER, req.extFields);
    const c = this.d.consume;
    const r: AckResult = h.deadLetter ? await c.forwardToDeadLetter(h.consumerGroup, h.topic, h.extraInfo) : c.ack(h.consumerGroup, h.topic, h.extraInfo);
    if (r === 'OK') return createResponse(ResponseCode.SUCCESS);
    return failed(r);
  };

  readonly changeInvisibleTime = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader(CHANGE_INVISIBLE_TIME_HEADER, req.extFields);
    const r = this.d.consume.changeInvisibleTime(h.consumerGroup, h.topic, h.extraInfo, h.invisibleTime);
    if (typeof r === 'string') return failed(r);
    return createResponse(
      ResponseCode.SUCCESS,
      undefined,
      encodeHeader(CHANGE_INVISIBLE_TIME_RESPONSE_HEADER, {
        extraInfo: r.handle,
        popTime: r.invisibleUntil - h.invisibleTime,
        invisibleTime: h.invisibleTime,
        reviveQid: 0,
      }),
    );
  };
}

function failed(r: AckResult): RemotingCommand {
  const remark =
    r === 'EXPIRED'
      ? 'receipt handle has expired: the message became visible again and will be redelivered'
      : 'receipt handle is invalid: unknown, already acknowledged or superseded by a newer handle';
  return createResponse(ResponseCode.NO_MESSAGE, remark, encodeHeader(ACK_FAILURE_RESPONSE_HEADER, { [AckResultHeader]: r }));
}
