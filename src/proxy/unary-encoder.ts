// Hand-written encoders for the two answers paid per message by the 5.x clients (issue 17):
// SendMessageResponse and AckMessageResponse. One size pass, one buffer, one write pass; the bytes
// are protobufjs's own (fields in id order, a field written whenever it is present, zero or empty
// included, as its generated encoder does). Anything outside the shapes the handlers build (a
// negative or fractional number, a non-string text) returns undefined and protobufjs encodes it.
//
// Wire layout (proto3, all length-delimited messages are tag + varint length + body):
//   Status            1: code (enum, varint)   2: message (string)
//   SendResultEntry   1: status (Status)  2: message_id  3: transaction_id  4: offset (int64, varint)  5: recall_handle
//   SendMessageResponse 1: status (Status)  2: entries (repeated SendResultEntry)
//   AckMessageResultEntry 1: message_id  2: receipt_handle  3: status (Status)
//   AckMessageResponse  1: status (Status)  2: entries (repeated AckMessageResultEntry)

interface StatusIn {
  code?: unknown;
  message?: unknown;
}
interface SendEntryIn {
  status?: StatusIn | null;
  messageId?: unknown;
  transactionId?: unknown;
  offset?: unknown;
  recallHandle?: unknown;
}
interface AckEntryIn {
  messageId?: unknown;
  receiptHandle?: unknown;
  status?: StatusIn | null;
}
interface ResponseIn<E> {
  status?: StatusIn | null;
  entries?: E[] | null;
}

const present = (v: unknown): boolean => v !== undefined && v !== null;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Size of a non-negative safe integer field (tag of one byte), 0 when absent, -1 when not encodable here. */
function uintField(v: unknown): number {
  if (!present(v)) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return -1;
  return 1 + varintSize(v);
}

function strField(v: unknown): number {
  if (!present(v)) return 0;
  if (typeof v !== 'string') return -1;
  const n = Buffer.byteLength(v);
  return 1 + varintSize(n) + n;
}

function statusBody(s: StatusIn): number {
  const a = uintField(s.code);
  const b = strField(s.message);
  return a < 0 || b < 0 ? -1 : a + b;
}

/** Size of a message field holding `body` bytes. */
const msgField = (body: number): number => 1 + varintSize(body) + body;

class Out {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  varint(n: number): void {
    while (n >= 128) {
      this.buf[this.pos++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  uint(tag: number, v: unknown): void {
    if (!present(v)) return;
    this.buf[this.pos++] = tag;
    this.varint(v as number);
  }

  str(tag: number, v: unknown): void {
    if (!present(v)) return;
    const s = v as string;
    this.buf[this.pos++] = tag;
    const n = Buffer.byteLength(s);
    this.varint(n);
    this.pos += this.buf.write(s, this.pos);
  }

  status(tag: number, s: StatusIn | null | undefined, body: number): void {
    if (!present(s)) return;
    this.buf[this.pos++] = tag;
    this.varint(body);
    this.uint(8, s!.code);
    this.str(18, s!.message);
  }
}

/** SendMessageResponse bytes, or undefined when the value is not of the handlers' shape. */
export function encodeSendMessageResponse(r: ResponseIn<SendEntryIn>): Buffer | undefined {
  const top = present(r.status) ? statusBody(r.status!) : 0;
  if (top < 0) return undefined;
  let size = present(r.status) ? msgField(top) : 0;
  const entries = r.entries ?? [];
  const bodies: number[] = [];
  for (const e of entries) {
    const st = present(e.status) ? statusBody(e.status!) : 0;
    const parts = [strField(e.messageId), strField(e.transactionId), uintField(e.offset), strField(e.recallHandle)];
    if (st < 0 || parts.some((p) => p < 0)) return undefined;
    const body = (present(e.status) ? msgField(st) : 0) + parts[0] + parts[1] + parts[2] + parts[3];
    bodies.push(st, body);
    size += msgField(body);
  }
  const out = new Out(Buffer.allocUnsafe(size));
  out.status(10, r.status, top);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    out.buf[out.pos++] = 18;
    out.varint(bodies[2 * i + 1]);
    out.status(10, e.status, bodies[2 * i]);
    out.str(18, e.messageId);
    out.str(26, e.transactionId);
    out.uint(32, e.offset);
    out.str(42, e.recallHandle);
  }
  return out.buf;
}

/** AckMessageResponse bytes, or undefined when the value is not of the handlers' shape. */
export function encodeAckMessageResponse(r: ResponseIn<AckEntryIn>): Buffer | undefined {
  const top = present(r.status) ? statusBody(r.status!) : 0;
  if (top < 0) return undefined;
  let size = present(r.status) ? msgField(top) : 0;
  const entries = r.entries ?? [];
  const bodies: number[] = [];
  for (const e of entries) {
    const st = present(e.status) ? statusBody(e.status!) : 0;
    const a = strField(e.messageId);
    const b = strField(e.receiptHandle);
    if (st < 0 || a < 0 || b < 0) return undefined;
    const body = a + b + (present(e.status) ? msgField(st) : 0);
    bodies.push(st, body);
    size += msgField(body);
  }
  const out = new Out(Buffer.allocUnsafe(size));
  out.status(10, r.status, top);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    out.buf[out.pos++] = 18;
    out.varint(bodies[2 * i + 1]);
    out.str(10, e.messageId);
    out.str(18, e.receiptHandle);
    out.status(26, e.status, bodies[2 * i]);
  }
  return out.buf;
}
