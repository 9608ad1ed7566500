// Long polling: a pull that finds nothing new is held until a message for its queue is
// dispatched or its suspend timeout passes, then the pull runs again without suspending.
import type { RemotingChannel, RemotingCommand } from '../../remoting/index.js';
import { isMatchedByTagsCode, type SubscriptionData } from '../clients/subscription-data.js';

export interface HeldPull {
  request: RemotingCommand;
  channel: RemotingChannel;
  topic: string;
  queueId: number;
  /** The queue offset the client asked for: any newer message wakes the pull. */
  offset: number;
  deadline: number;
  sub: SubscriptionData;
}

export class PullRequestHoldService {
  private readonly held = new Map<string, HeldPull[]>();
  private count = 0;
  private timer: NodeJS.Timeout | undefined;

  /** wake re-runs the pull (without suspending) and answers the client. */
  constructor(private readonly wake: (p: HeldPull) => void) {}

  start(checkIntervalMs = 200): void {
    this.timer = setInterval(() => this.checkTimeouts(Date.now()), checkIntervalMs);
    this.timer.unref();
  }

  get size(): number {
    return this.count;
  }

  hold(p: HeldPull): void {
    const key = p.topic + '@' + p.queueId;
    const list = this.held.get(key);
    if (list) list.push(p);
    else this.held.set(key, [p]);
    this.count++;
  }

  /** Called for every dispatched message; cheap when nothing is held. */
  notifyMessageArriving(topic: string, queueId: number, queueOffset: number, tagsCode: number | undefined): void {
    if (this.count === 0) return;
    const key = topic + '@' + queueId;
    const list = this.held.get(key);
    if (!list) return;
    let keep: HeldPull[] | undefined;
    for (const p of list) {
      const arrived = queueOffset >= p.offset;
      if (arrived && (tagsCode === undefined || isMatchedByTagsCode(p.sub, tagsCode))) this.release(p);
      else (keep ??= []).push(p);
    }
    if (keep) this.held.set(key, keep);
    else this.held.delete(key);
  }

  private release(p: HeldPull): void {
    this.count--;
    if (!p.channel.closed) this.wake(p);
  }

  checkTimeouts(now: number): void {
    if (this.count === 0) return;
    for (const [key, list] of [...this.held]) {
      const keep = list.filter((p) => {
        if (p.channel.closed) {
          this.count--;
          return false;
        }
        if (p.deadline <= now) {
          this.release(p);
          return false;
        }
        return true;
      });
      if (keep.length) this.held.set(key, keep);
      else this.held.delete(key);
    }
  }

  /** Answers every held pull now (shutdown). */
  shutdown(): void {
    if (this.timer) clearInterval(this.timer);
    for (const list of this.held.values()) for (const p of list) this.release(p);
    this.held.clear();
    this.count = 0;
  }
}
