// Message ids: the broker's offsetMsgId (store host + port + commit-log offset) and the Java
// client's UNIQ_KEY (MessageClientIDSetter form). Both are uppercase hex.
import { readLong, writeLong } from './message-bytes.js';
import { readAddress, writeAddress, type HostPort } from './message-host.js';

let lastAddress = '';
let lastPort = -1;
let lastPrefix = '';
/** The id's characters, the prefix's filled in once: one String.fromCharCode call makes the id. */
let idCodes: number[] = [];

const HEX_UPPER = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 65, 66, 67, 68, 69, 70];

/** offsetMsgId: 4|16 address bytes + int32 port + int64 offset, uppercase hex (32 or 56 chars). */
export function createMessageId(storeHost: HostPort, commitLogOffset: number): string {
  // One store host per broker: its hex prefix is worked out once.
  if (storeHost.address !== lastAddress || storeHost.port !== lastPort) {
    const buf = Buffer.allocUnsafe(20);
    const n = writeAddress(buf, storeHost.address, 0);
    buf.writeInt32BE(storeHost.port, n);
    lastPrefix = buf.toString('hex', 0, n + 4).toUpperCase();
    lastAddress = storeHost.address;
    lastPort = storeHost.port;
    idCodes = Array.from(lastPrefix + '0'.repeat(16), (c) => c.charCodeAt(0));
  }
  if (Number.isSafeInteger(commitLogOffset) && commitLogOffset >= 0) return offsetId(commitLogOffset);
  if (commitLogOffset >= 0) return lastPrefix + commitLogOffset.toString(16).toUpperCase().padStart(16, '0');
  const buf = Buffer.allocUnsafe(8);
  writeLong(buf, commitLogOffset, 0);
  return lastPrefix + buf.toString('hex').toUpperCase();
}

/**
 * The prefix then the offset as 16 uppercase hex digits, built in place: toString(16),
 * toUpperCase, padStart and the concatenation made four strings per stored message (issue 17).
 */
function offsetId(offset: number): string {
  const codes = idCodes;
  let lo = offset % 0x1_0000_0000;
  let hi = (offset - lo) / 0x1_0000_0000;
  for (let i = codes.length - 1, k = 0; k < 8; i--, k++) {
    codes[i] = HEX_UPPER[lo & 15];
    lo >>>= 4;
  }
  for (let i = codes.length - 9, k = 0; k < 8; i--, k++) {
    codes[i] = HEX_UPPER[hi & 15];
    hi >>>= 4;
  }
  return String.fromCharCode.apply(null, codes);
}

export interface MessageIdParts {
  address: string;
  port: number;
  offset: number;
}

/** Parses an offsetMsgId (32 hex chars for IPv4, 56 for IPv6). */
export function decodeMessageId(msgId: string): MessageIdParts {
  if ((msgId.length !== 32 && msgId.length !== 56) || !/^[0-9A-Fa-f]+$/.test(msgId)) {
    throw new Error(`not an offset message id: ${JSON.stringify(msgId)}`);
  }
  const buf = Buffer.from(msgId, 'hex');
  const v6 = buf.length === 28;
  const n = v6 ? 16 : 4;
  return { address: readAddress(buf, 0, v6), port: buf.readInt32BE(n), offset: readLong(buf, n + 4) };
}

/** Start of the current month in local time, as MessageClientIDSetter.setStartTime computes it. */
function monthStart(now: number): { start: number; next: number } {
  const d = new Date(now);
  const start = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
  const next = new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime();
  return { start, next };
}

/**
 * UNIQ_KEY generator in Java's form: ip (4|16) + pid (int16) + class-loader hash (int32), then
 * per id ms since the month started (int32) + counter (int16). One instance per process is enough.
 */
export class MessageClientIDSetter {
  private readonly fix: string;
  private counter = 0;
  private start = 0;
  private next = 0;
  private readonly tail = Buffer.allocUnsafe(6);

  constructor(address = '127.0.0.1', pid = process.pid, loaderHash = Math.floor(Math.random() * 0x7fffffff)) {
    const buf = Buffer.allocUnsafe(22);
    const n = writeAddress(buf, address, 0);
    buf.writeInt16BE((pid << 16) >> 16, n);
    buf.writeInt32BE(loaderHash | 0, n + 2);
    this.fix = buf.toString('hex', 0, n + 6).toUpperCase();
  }

  createUniqID(now = Date.now()): string {
    if (now >= this.next) {
      const m = monthStart(now);
      this.start = m.start;
      this.next = m.next;
    }
    let diff = (now - this.start) | 0;
    if (diff < 0 && diff > -1_000_000) diff = 0;
    this.tail.writeInt32BE(diff, 0);
    this.tail.writeInt16BE((this.counter << 16) >> 16, 4);
    this.counter = (this.counter + 1) & 0xffff;
    return this.fix + this.tail.toString('hex').toUpperCase();
  }
}

let defaultSetter: MessageClientIDSetter | undefined;

/** A UNIQ_KEY from a process-wide generator. */
export function createUniqID(): string {
  defaultSetter ??= new MessageClientIDSetter();
  return defaultSetter.createUniqID();
}
