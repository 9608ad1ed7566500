// PULL_MESSAGE: read by queue offset, filter by tag hash (and SQL92 on properties), hold empty
// pulls for long polling, commit the consumer's offset when asked.
import type { BrokerConfig } from '../../config/index.js';
import {
  BrokerError,
  createResponse,
  decodeHeader,
  ResponseCode,
  type DecodedHeader,
  type RemotingChannel,
  type RemotingCommand,
} from '../../remoting/index.js';
import { encodeHeader, PULL_MESSAGE_HEADER, PULL_MESSAGE_RESPONSE_HEADER, PullSysFlag } from '../../remoting/protocol/index.js';
import type { ConsumerManager } from '../clients/consumer-manager.js';
import { buildSubscriptionData, type SubscriptionData } from '../clients/subscription-data.js';
import type { HeldPull } from '../longpolling/pull-request-hold-service.js';
import type { OffsetService } from '../service/offset-service.js';
import type { PullKind, PullOutcome, PullService } from '../service/pull-service.js';

type PullHeader = DecodedHeader<typeof PULL_MESSAGE_HEADER>;

const PULL_CODES: Record<PullKind, number> = {
  FOUND: ResponseCode.SUCCESS,
  RETRY_IMMEDIATELY: ResponseCode.PULL_RETRY_IMMEDIATELY,
  NO_NEW_MSG: ResponseCode.PULL_NOT_FOUND,
  OFFSET_MOVED: ResponseCode.PULL_OFFSET_MOVED,
  ERROR: ResponseCode.SYSTEM_ERROR,
};

export interface PullProcessorDeps {
  pulls: PullService;
  offsets: OffsetService;
  consumers: ConsumerManager;
  config: Pick<BrokerConfig, 'longPollingEnable' | 'shortPollingTimeMills'>;
  /** Parks a pull that found nothing until a message arrives or it times out (long polling). */
  hold(p: HeldPull): void;
  /** The member the client should pull from next (slaveReadEnable); 0, the master, without it. */
  suggestBrokerId?(group: string, slow: boolean): number;
}

/** A pull's own subscription as last parsed, per group and topic. */
interface ParsedSubscription {
  subString: string | undefined;
  expressionType: string | undefined;
  subVersion: number;
  data: SubscriptionData;
}

/** Bound on the parsed-subscription cache (groups x topics); past it the cache starts over. */
const MAX_PARSED_SUBSCRIPTIONS = 4096;

export class PullMessageProcessor {
  // Clients send their subscription with every pull, unchanged between pulls: parsing it each time
  // was ~0.3 KB of garbage per pull (issue 17). A hit needs the same text, type and version.
  private readonly parsed = new Map<string, Map<string, ParsedSubscription>>();
  private parsedCount = 0;

  constructor(private readonly d: PullProcessorDeps) {}

  readonly process = (req: RemotingCommand, ch: RemotingChannel): Promise<RemotingCommand | null> =>
    this.processRequest(req, ch, true);

  /** Re-runs a held pull after a message arrived or its hold timed out, and answers it. */
  readonly wake = (p: HeldPull): void => {
    this.processRequest(p.request, p.channel, false).then(
      (resp) => {
        if (resp) p.channel.respond(p.request, resp);
      },
      (err: unknown) => {
        const e = err instanceof BrokerError ? err : new BrokerError(ResponseCode.SYSTEM_ERROR, String((err as Error)?.message ?? err));
        p.channel.respond(p.request, createResponse(e.code, e.remark));
      },
    );
  };

  /** A refusal rejects (the channel and wake answer it); not an async function, as it runs per pull (issue 17). */
  processRequest(req: RemotingCommand, ch: RemotingChannel, allowSuspend: boolean): Promise<RemotingCommand | null> {
    let h: PullHeader;
    let sub: SubscriptionData;
    let read: Promise<PullOutcome>;
    try {
      const d = this.d;
      h = decodeHeader(PULL_MESSAGE_HEADER, req.extFields);
      const tc = d.pulls.check(h.consumerGroup, h.topic, h.queueId, ch.remoteAddress);
      sub = this.subscriptionOf(h, ch);
      d.pulls.checkFilter(sub);
      // The commit offset is stored before the read: by the time the read ends, a newer
      // UPDATE_CONSUMER_OFFSET from the same client may have arrived; this older one must not win.
      this.commitIfAsked(h, allowSuspend);
      read = d.pulls.read(
        { protocol: 'remoting', group: h.consumerGroup, topic: h.topic, queueId: h.queueId, offset: h.queueOffset, maxNums: h.maxMsgNums, sub, client: ch.remoteAddress },
        tc,
      );
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const header = h;
    const subscription = sub;
    return read.then((r) => this.answer(req, ch, allowSuspend, header, subscription, r));
  }

  private answer(req: RemotingCommand, ch: RemotingChannel, allowSuspend: boolean, h: PullHeader, sub: SubscriptionData, r: PullOutcome): RemotingCommand | null {
    const d = this.d;
    const code = PULL_CODES[r.kind];
    if (code === ResponseCode.PULL_NOT_FOUND && allowSuspend && (h.sysFlag & PullSysFlag.SUSPEND) !== 0) {
      const timeout = d.config.longPollingEnable ? h.suspendTimeoutMillis : d.config.shortPollingTimeMills;
      d.hold({
        request: req,
        channel: ch,
        topic: h.topic,
        queueId: h.queueId,
        offset: h.queueOffset,
        deadline: Date.now() + Math.min(timeout, 25_000),
        sub,
      });
      return null;
    }
    const resp = createResponse(
      code,
      r.remark,
      encodeHeader(PULL_MESSAGE_RESPONSE_HEADER, {
        nextBeginOffset: r.nextBeginOffset,
        minOffset: r.minOffset,
        maxOffset: r.maxOffset,
        suggestWhichBrokerId: d.suggestBrokerId?.(h.consumerGroup, r.slow === true) ?? 0,
        topicSysFlag: r.topicSysFlag,
        groupSysFlag: 0,
      }),
    );
    if (code === ResponseCode.SUCCESS) resp.body = r.buffers;
    return resp;
  }

  /** Java stores the pull's commit offset only on the first pass (not on a re-run after waking). */
  private commitIfAsked(h: { sysFlag: number; consumerGroup: string; topic: string; queueId: number; commitOffset: number }, first: boolean): void {
    if (first && (h.sysFlag & PullSysFlag.COMMIT_OFFSET) !== 0) {
      this.d.offsets.commit(h.consumerGroup, h.topic, h.queueId, h.commitOffset);
    }
  }

  /** buildSubscriptionData's result, reused while a group's pulls of a topic send the same subscription. */
  private parsedSubscription(group: string, topic: string, subString: string | undefined, expressionType: string | undefined, subVersion: number): SubscriptionData {
    let byTopic = this.parsed.get(group);
    const hit = byTopic?.get(topic);
    if (hit !== undefined && hit.subString === subString && hit.expressionType === expressionType && hit.subVersion === subVersion) return hit.data;
    // A subscription that does not parse throws here and is not kept.
    const data = buildSubscriptionData(topic, subString, expressionType, subVersion);
    if (this.parsedCount >= MAX_PARSED_SUBSCRIPTIONS) {
      this.parsed.clear();
      this.parsedCount = 0;
      byTopic = undefined;
    }
    if (byTopic === undefined) this.parsed.set(group, (byTopic = new Map()));
    if (!byTopic.has(topic)) this.parsedCount++;
    byTopic.set(topic, { subString, expressionType, subVersion, data });
    return data;
  }

  private subscriptionOf(
    h: { sysFlag: number; topic: string; consumerGroup: string; subscription?: string; expressionType?: string; subVersion: number },
    ch: RemotingChannel,
  ): SubscriptionData {
    if ((h.sysFlag & PullSysFlag.SUBSCRIPTION) !== 0) return this.parsedSubscription(h.consumerGroup, h.topic, h.subscription, h.expressionType, h.subVersion);
    const info = this.d.consumers.getConsumerGroupInfo(h.consumerGroup);
    if (!info) {
      throw new BrokerError(ResponseCode.SUBSCRIPTION_NOT_EXIST, `the consumer's group info not exist, group: ${h.consumerGroup} client: ${ch.remoteAddress}`);
    }
    const sub = info.findSubscriptionData(h.topic);
    if (!sub) {
      throw new BrokerError(ResponseCode.SUBSCRIPTION_NOT_EXIST, `the consumer's subscription not exist, group: ${h.consumerGroup} topic: ${h.topic}`);
    }
    if (sub.subVersion < h.subVersion) {
      throw new BrokerError(ResponseCode.SUBSCRIPTION_NOT_LATEST, `the consumer's subscription not latest, group: ${h.consumerGroup} topic: ${h.topic}`);
    }
    return sub;
  }
}
