// ConsumeMessageConcurrentlyService: runs the handler on batches of pulled messages with at
// most `maxConcurrency` batches in flight for the whole consumer, then commits offsets and
// sends failed messages back (clustering) or drops them (broadcasting), as Java does.
import { MessageConst } from '../common/message-const.js';
import type { Logger } from '../common/logger.js';
import { retryTopicOf, type MessageExt, type MessageQueue } from './message.js';
import type { MessageModel } from './mq-client-instance.js';
import type { ProcessQueue } from './process-queue.js';
import { WorkGate } from './work-gate.js';

export type ConsumeResult = 'SUCCESS' | 'RETRY';
/** Resolve 'SUCCESS' to acknowledge the batch; 'RETRY' (or a throw) has every message of it retried. */
export type MessageHandler = (msgs: MessageExt[]) => Promise<ConsumeResult> | ConsumeResult;

/** What the service needs from its consumer. */
export interface ConsumeHost {
  readonly group: string;
  readonly messageModel: MessageModel;
  readonly logger: Logger;
  /** CONSUMER_SEND_MSG_BACK, with the fallback resend; false when both failed. */
  sendMessageBack(msg: MessageExt): Promise<boolean>;
  commitOffset(mq: MessageQueue, offset: number): void;
}

interface ConsumeRequest {
  msgs: MessageExt[];
  pq: ProcessQueue;
  mq: MessageQueue;
}

/** Java consumes a batch that could not be sent back again locally after 5 s. */
const CONSUME_LATER_MS = 5000;

export class ConsumeMessageConcurrentlyService {
  private readonly waiting: ConsumeRequest[] = [];
  private readonly gate = new WorkGate();
  private readonly retryTopic: string;

  constructor(
    private readonly host: ConsumeHost,
    private readonly handler: MessageHandler,
    private readonly maxConcurrency: number,
    private readonly batchSize: number,
  ) {
    this.retryTopic = retryTopicOf(host.group);
  }

  submitConsumeRequest(msgs: MessageExt[], pq: ProcessQueue, mq: MessageQueue): void {
    if (this.gate.stopped) return;
    if (msgs.length <= this.batchSize) this.waiting.push({ msgs, pq, mq });
    else for (let i = 0; i < msgs.length; i += this.batchSize) this.waiting.push({ msgs: msgs.slice(i, i + this.batchSize), pq, mq });
    this.pump();
  }

  // One settle handler pair for every request (a catch and a finally per request made two more promises).
  private readonly afterRun = (): void => {
    this.gate.end();
    this.pump();
  };

  private readonly afterRunFailed = (err: unknown): void => {
    this.host.logger.error({ err }, 'consume request failed unexpectedly');
    this.afterRun();
  };

  private pump(): void {
    while (!this.gate.stopped && this.gate.running < this.maxConcurrency && this.waiting.length > 0) {
      const req = this.waiting.shift() as ConsumeRequest;
      this.gate.begin();
      this.run(req).then(this.afterRun, this.afterRunFailed);
    }
  }

  private async run(req: ConsumeRequest): Promise<void> {
    if (req.pq.dropped) return;
    for (const m of req.msgs) this.resetRetryTopic(m);
    let status: ConsumeResult;
    try {
      // A handler that answers at once is not awaited: no extra hop before the offsets move.
      const answer = this.handler(req.msgs);
      status = typeof answer === 'string' ? answer : await answer;
      if (status !== 'SUCCESS' && status !== 'RETRY') {
        this.host.logger.warn({ status }, 'message handler returned neither SUCCESS nor RETRY; retrying the batch');
        status = 'RETRY';
      }
    } catch (err) {
      this.host.logger.warn({ err, group: this.host.group, mq: req.mq }, 'message handler threw; the batch will be retried');
      status = 'RETRY';
    }
    if (req.pq.dropped) return;
    if (status === 'SUCCESS') this.commitConsumed(req, req.msgs);
    else await this.processConsumeResult(status, req);
  }

  /** A retried message arrives on %RETRY%<group>; the handler sees its original topic. */
  private resetRetryTopic(m: MessageExt): void {
    const orig = m.properties[MessageConst.PROPERTY_RETRY_TOPIC];
    if (orig !== undefined && m.topic === this.retryTopic) m.topic = orig;
  }

  private async processConsumeResult(status: ConsumeResult, req: ConsumeRequest): Promise<void> {
    let done = req.msgs;
    if (status === 'RETRY') {
      if (this.host.messageModel === 'BROADCASTING') {
        for (const m of req.msgs) this.host.logger.warn({ msgId: m.msgId }, 'BROADCASTING: consume failed, message dropped');
      } else {
        const results = await Promise.all(req.msgs.map((m) => this.host.sendMessageBack(m)));
        const failed = req.msgs.filter((_, i) => !results[i]);
        if (failed.length > 0) {
          done = req.msgs.filter((_, i) => results[i]);
          for (const m of failed) m.reconsumeTimes++;
          this.consumeLater({ msgs: failed, pq: req.pq, mq: req.mq });
        }
      }
    }
    this.commitConsumed(req, done);
  }

  private commitConsumed(req: ConsumeRequest, done: readonly MessageExt[]): void {
    const offset = req.pq.removeMessages(done);
    if (offset >= 0 && !req.pq.dropped) this.host.commitOffset(req.mq, offset);
  }

  private consumeLater(req: ConsumeRequest): void {
    this.gate.schedule(CONSUME_LATER_MS, () => {
      if (req.pq.dropped) return;
      this.waiting.push(req);
      this.pump();
    });
  }

  /** Stops taking work and waits (up to awaitMs) for running handlers, so their offsets count. */
  shutdown(awaitMs: number): Promise<void> {
    this.waiting.length = 0;
    return this.gate.shutdown(awaitMs);
  }
}
