// Load from the real ali-ons producer for the HA chaos run: bounded concurrency, each message
// (numbered in its body) sent again and again until the group acknowledges it, as an
// application does; every acknowledgement is kept with its time and the port of the member that
// stored it (read from the offset message id the broker answers with).
import { decodeMessageId } from '../../src/common/msg-id.js';
import { ons } from '../../test/compat/helpers/ali-ons.js';

/** Pause after a failed attempt: a refusing or dead master answers at once; no spinning on 2 cores. */
const RETRY_PAUSE_MS = 50;

export interface Ack {
  at: number;
  /** Listen port of the member that stored it (the stored record's offsetMsgId). */
  port: number;
}

/** `<seq>:` then padding up to the body size. */
export function makeBody(seq: number, size: number): Buffer {
  const head = `${seq}:`;
  return Buffer.from(head.padEnd(Math.max(size, head.length), 'x'));
}

/** The sequence number a body carries, or -1 when it is not one of ours. */
export function seqOf(body: Buffer): number {
  const i = body.indexOf(0x3a);
  if (i <= 0 || i > 12) return -1;
  const n = Number(body.toString('latin1', 0, i));
  return Number.isSafeInteger(n) && n >= 0 ? n : -1;
}

export interface HaLoadOptions {
  topic: string;
  concurrency: number;
  size: number;
  /** Messages per second over all senders; 0 = as fast as acknowledgements come. */
  rate: number;
}

export class HaLoad {
  readonly acks = new Map<number, Ack>();
  /** Attempts answered with a status other than SEND_OK (not acknowledged; the message is re-sent). */
  readonly notOk = new Map<string, number>();
  /** Attempts that threw, by message with digits elided. */
  readonly failed = new Map<string, number>();
  attempts = 0;
  /** Messages given up when the load stopped before they were acknowledged. */
  abandoned = 0;
  private next = 0;
  private stopped = false;
  private nextSlot = 0;
  private readonly workers: Promise<void>[] = [];
  private readonly waiters: { after: number; notPort: number; resolve: (a: Ack) => void }[] = [];

  constructor(
    private readonly producer: any,
    private readonly o: HaLoadOptions,
  ) {}

  get issued(): number {
    return this.next;
  }

  start(): this {
    for (let i = 0; i < this.o.concurrency; i++) this.workers.push(this.worker());
    return this;
  }

  /** The first acknowledgement at or after `after` stored by a member other than the one on `notPort`. */
  ackAfter(after: number, notPort: number): Promise<Ack> {
    return new Promise((resolve) => this.waiters.push({ after, notPort, resolve }));
  }

  /** Stops starting messages; a message not yet acknowledged is given up after its attempt in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  private async pace(): Promise<void> {
    if (this.o.rate <= 0) return;
    const now = performance.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + 1000 / this.o.rate;
    if (slot - now > 1) await new Promise((r) => setTimeout(r, slot - now));
  }

  private async worker(): Promise<void> {
    while (!this.stopped) {
      await this.pace();
      if (this.stopped) break;
      const seq = this.next++;
      const body = makeBody(seq, this.o.size);
      for (;;) {
        if (this.stopped) {
          this.abandoned++;
          break;
        }
        this.attempts++;
        try {
          const r = await this.producer.send(new ons.Message(this.o.topic, 'ha', body));
          if (r.sendStatus === 'SEND_OK') {
            this.acked(seq, r.msgId as string);
            break;
          }
          count(this.notOk, String(r.sendStatus));
        } catch (err) {
          count(this.failed, (err as Error).message.replace(/\d+/g, 'N').slice(0, 160));
        }
        await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
      }
    }
  }

  private acked(seq: number, msgId: string): void {
    let port = -1;
    try {
      port = decodeMessageId(msgId).port;
    } catch {
      // not an offset message id: attributed to no member
    }
    const a: Ack = { at: Date.now(), port };
    this.acks.set(seq, a);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i];
      if (a.at >= w.after && a.port !== w.notPort) {
        this.waiters.splice(i, 1);
        w.resolve(a);
      }
    }
  }
}

function count(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}
