// UNIQ_KEY per sent message in MessageClientIDSetter's form (common/msg-id.ts): its fixed part is
// taken from that generator, and the 12 hex digits that change per message (ms since the month
// began, counter) are written from a table into a reused list of char codes, the whole id made by
// one String.fromCharCode call. The common generator's Buffer writes, hex toString, toUpperCase and
// concatenation made four strings per message (issue 17: the producer's CPU per message).
import { MessageClientIDSetter } from '../common/msg-id.js';

const HEX = Array.from('0123456789ABCDEF', (c) => c.charCodeAt(0));
const VARYING = 12;

export class ClientUniqIdGenerator {
  /** The fixed part's char codes, then room for the 12 varying digits. */
  private readonly codes: number[];
  private readonly at: number;
  private counter = 0;
  private start = 0;
  private next = 0;

  constructor(address: string, pid = process.pid, loaderHash = Math.floor(Math.random() * 0x7fffffff)) {
    const sample = new MessageClientIDSetter(address, pid, loaderHash).createUniqID(0);
    this.at = sample.length - VARYING;
    this.codes = Array.from(sample, (c) => c.charCodeAt(0));
  }

  create(now = Date.now()): string {
    if (now >= this.next) {
      const d = new Date(now);
      this.start = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
      this.next = new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime();
    }
    let diff = (now - this.start) | 0;
    if (diff < 0 && diff > -1_000_000) diff = 0;
    const c = this.counter;
    this.counter = (c + 1) & 0xffff;
    const codes = this.codes;
    let p = this.at;
    for (let shift = 28; shift >= 0; shift -= 4) codes[p++] = HEX[(diff >>> shift) & 15];
    for (let shift = 12; shift >= 0; shift -= 4) codes[p++] = HEX[(c >>> shift) & 15];
    return String.fromCharCode.apply(null, codes);
  }
}
