// ConsumeMessageOrderlyService: consumes each queue serially in offset order (one batch at a time
// per queue, queues in parallel), only while this client holds the queue's broker lock; on
// SUSPEND_CURRENT_QUEUE_A_MOMENT the same messages are consumed again locally after a pause, and
// past maxReconsumeTimes they are sent back (the broker parks them in %DLQ% while the group holds
// a lock) so the queue can move on. Mirrors Java's ConsumeMessageOrderlyService.
import { MessageConst } from '../common/message-const.js';
import type { Logger } from '../common/logger.js';
import { retryTopicOf, type MessageExt, type MessageQueue } from './message.js';
import type { MessageModel } from './mq-client-instance.js';
import type { ProcessQueue } from './process-queue.js';
import { WorkGate } from './work-gate.js';

export type ConsumeOrderlyStatus = 'SUCCESS' | 'SUSPEND_CURRENT_QUEUE_A_MOMENT';

export interface ConsumeOrderlyContext {
  readonly messageQueue: MessageQueue;
  /** Pause before this batch is consumed again after a suspend; -1 = the consumer's setting. */
  suspendCurrentQueueTimeMillis: number;
}

/** Resolve 'SUCCESS' to move on; 'SUSPEND_CURRENT_QUEUE_A_MOMENT' (or a throw) consumes the batch again later. */
export type MessageListenerOrderly = (
  msgs: MessageExt[],
  context: ConsumeOrderlyContext,
) => Promise<ConsumeOrderlyStatus> | ConsumeOrderlyStatus;

/** What the service needs from its consumer. */
export interface OrderlyConsumeHost {
  readonly group: string;
  readonly messageModel: MessageModel;
  readonly logger: Logger;
  /** Java's orderly sendMessageBack: a direct send to %RETRY%<group>; false when it failed. */
  sendMessageBackOrderly(msg: MessageExt): Promise<boolean>;
  /** LOCK_BATCH_MQ for one queue; true when this client holds it afterwards. */
  lockOneMQ(mq: MessageQueue): Promise<boolean>;
  commitOffset(mq: MessageQueue, offset: number): void;
}

export interface OrderlyServiceOptions {
  maxConcurrency: number;
  batchSize: number;
  /** Java suspendCurrentQueueTimeMillis (1000). */
  suspendCurrentQueueTimeMillis: number;
  /** Local retries before send-back; Java's orderly default is Integer.MAX_VALUE. */
  maxReconsumeTimes: number;
  /** Client-side lock life (Java rocketmq.client.rebalance.lockMaxLiveTime, 30 s). */
  lockMaxLiveTimeMs: number;
}

interface ConsumeRequest {
  pq: ProcessQueue;
  mq: MessageQueue;
}

/** Java MAX_TIME_CONSUME_CONTINUOUSLY: one queue yields to the others after 60 s of work. */
const MAX_TIME_CONSUME_CONTINUOUSLY_MS = 60_000;

export class ConsumeMessageOrderlyService {
  private readonly waiting: ConsumeRequest[] = [];
  private readonly busy = new Set<ProcessQueue>();
  private readonly rerun = new Set<ProcessQueue>();
  private readonly gate = new WorkGate();
  private readonly retryTopic: string;
  private readonly clustering: boolean;

  constructor(
    private readonly host: OrderlyConsumeHost,
    private readonly listener: MessageListenerOrderly,
    private readonly opts: OrderlyServiceOptions,
  ) {
    this.retryTopic = retryTopicOf(host.group);
    this.clustering = host.messageModel === 'CLUSTERING';
  }

  /** `dispatch` is ProcessQueue.putMessages' answer: false means a request for the queue is already under way. */
  submitConsumeRequest(pq: ProcessQueue, mq: MessageQueue, dispatch = true): void {
    if (!dispatch || this.gate.stopped) return;
    this.waiting.push({ pq, mq });
    this.pump();
  }

  private pump(): void {
    while (!this.gate.stopped && this.gate.running < this.opts.maxConcurrency && this.waiting.length > 0) {
      const req = this.waiting.shift() as ConsumeRequest;
      // Java serialises requests of one queue on a per-queue monitor; here a second request
      // arriving while one runs just asks the running one for another round.
      if (this.busy.has(req.pq)) {
        this.rerun.add(req.pq);
        continue;
      }
      this.busy.add(req.pq);
      this.gate.begin();
      this.run(req)
        .catch((err: unknown) => this.host.logger.error({ err, mq: req.mq }, 'orderly consume request failed unexpectedly'))
        .finally(() => {
          this.busy.delete(req.pq);
          if (this.rerun.delete(req.pq) && !req.pq.dropped) this.waiting.push(req);
          this.gate.end();
          this.pump();
        });
    }
  }

  private holdsLock(pq: ProcessQueue): boolean {
    return !this.clustering || (pq.locked && !pq.isLockExpired(this.opts.lockMaxLiveTimeMs));
  }

  private async run(req: ConsumeRequest): Promise<void> {
    const { pq } = req;
    if (pq.dropped) return;
    if (!this.holdsLock(pq)) {
      this.tryLockLaterAndReconsume(req, 100);
      return;
    }
    const begin = Date.now();
    for (;;) {
      if (pq.dropped || this.gate.stopped) return;
      if (!this.holdsLock(pq)) {
        this.tryLockLaterAndReconsume(req, 10);
        return;
      }
      if (Date.now() - begin > MAX_TIME_CONSUME_CONTINUOUSLY_MS) {
        this.submitConsumeRequestLater(req, 10);
        return;
      }
      const msgs = pq.takeMessages(this.opts.batchSize);
      if (msgs.length === 0) return;
      let settle!: () => void;
      pq.inFlight = new Promise<void>((r) => (settle = r));
      try {
        if (!(await this.consumeBatch(req, msgs))) return;
      } finally {
        pq.inFlight = undefined;
        settle();
      }
    }
  }

  /** One handler call and its outcome; false when the queue pauses (suspend) instead of going on. */
  private async consumeBatch(req: ConsumeRequest, msgs: MessageExt[]): Promise<boolean> {
    for (const m of msgs) this.resetRetryTopic(m);
    const context: ConsumeOrderlyContext = { messageQueue: req.mq, suspendCurrentQueueTimeMillis: -1 };
    let status: ConsumeOrderlyStatus = 'SUSPEND_CURRENT_QUEUE_A_MOMENT';
    try {
      const r = await this.listener(msgs.slice(), context);
      if (r === 'SUCCESS') status = 'SUCCESS';
      else if (r !== 'SUSPEND_CURRENT_QUEUE_A_MOMENT') this.host.logger.warn({ status: r, mq: req.mq }, 'orderly listener returned an unknown status; suspending');
    } catch (err) {
      this.host.logger.warn({ err, group: this.host.group, mq: req.mq }, 'orderly listener threw; suspending the queue a moment');
    }
    return this.processConsumeResult(msgs, status, context, req);
  }

  private async processConsumeResult(msgs: MessageExt[], status: ConsumeOrderlyStatus, context: ConsumeOrderlyContext, req: ConsumeRequest): Promise<boolean> {
    let commitOffset = -1;
    let goOn = true;
    if (status === 'SUCCESS') commitOffset = req.pq.commit();
    else if (await this.checkReconsumeTimes(msgs)) {
      req.pq.makeMessageToConsumeAgain(msgs);
      this.submitConsumeRequestLater(req, context.suspendCurrentQueueTimeMillis);
      goOn = false;
    } else commitOffset = req.pq.commit();
    // Unlike Java, a batch that finished while rebalance was removing its (still locked) queue
    // is committed: rebalance waits for it and persists the offset before unlocking, so the
    // next owner does not consume it again. A queue whose lock was lost commits nothing.
    if (commitOffset >= 0 && (!req.pq.dropped || req.pq.locked)) this.host.commitOffset(req.mq, commitOffset);
    return goOn;
  }

  /** True when the batch must be consumed again locally; messages past the maximum are sent back instead. */
  private async checkReconsumeTimes(msgs: MessageExt[]): Promise<boolean> {
    let suspend = false;
    for (const m of msgs) {
      if (m.reconsumeTimes >= this.opts.maxReconsumeTimes) {
        m.properties[MessageConst.PROPERTY_RECONSUME_TIME] = String(m.reconsumeTimes);
        if (!(await this.host.sendMessageBackOrderly(m))) {
          suspend = true;
          m.reconsumeTimes++;
        }
      } else {
        suspend = true;
        m.reconsumeTimes++;
      }
    }
    return suspend;
  }

  /** A retried message arrives on %RETRY%<group>; the handler sees its original topic. */
  private resetRetryTopic(m: MessageExt): void {
    const orig = m.properties[MessageConst.PROPERTY_RETRY_TOPIC];
    if (orig !== undefined && m.topic === this.retryTopic) m.topic = orig;
  }

  private tryLockLaterAndReconsume(req: ConsumeRequest, delayMs: number): void {
    this.schedule(delayMs, () => {
      void this.host
        .lockOneMQ(req.mq)
        .catch(() => false)
        .then((ok) => this.submitConsumeRequestLater(req, ok ? 10 : 3000));
    });
  }

  private submitConsumeRequestLater(req: ConsumeRequest, ms: number): void {
    const t = ms === -1 ? this.opts.suspendCurrentQueueTimeMillis : ms;
    this.schedule(Math.min(30_000, Math.max(10, t)), () => this.submitConsumeRequest(req.pq, req.mq, true));
  }

  private schedule(ms: number, fn: () => void): void {
    this.gate.schedule(ms, fn);
  }

  /** Stops taking work and waits (up to awaitMs) for running batches, so their offsets count. */
  shutdown(awaitMs: number): Promise<void> {
    this.waiting.length = 0;
    return this.gate.shutdown(awaitMs);
  }
}
