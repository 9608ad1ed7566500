// Receipt handle of a popped message: "p1 <topic> <queueId> <queueOffset> <nonce> <invisibleUntil>".
// Plain text (topic names have no spaces), as RocketMQ's handles are; clients treat it as opaque.
// The nonce changes on every change of invisibility, so an old handle stops working.
export interface ReceiptHandle {
  topic: string;
  queueId: number;
  queueOffset: number;
  nonce: number;
  invisibleUntil: number;
}

export function encodeReceiptHandle(h: ReceiptHandle): string {
  return `p1 ${h.topic} ${h.queueId} ${h.queueOffset} ${h.nonce} ${h.invisibleUntil}`;
}

/** undefined when the text is not a handle this broker issued. */
export function decodeReceiptHandle(text: string): ReceiptHandle | undefined {
  if (!text || text.length > 2048 || !text.startsWith('p1 ')) return undefined;
  const parts = text.split(' ');
  if (parts.length !== 6) return undefined;
  const queueId = Number(parts[2]);
  const queueOffset = Number(parts[3]);
  const nonce = Number(parts[4]);
  const invisibleUntil = Number(parts[5]);
  if (!Number.isSafeInteger(queueId) || !Number.isSafeInteger(queueOffset) || !Number.isSafeInteger(nonce) || !Number.isSafeInteger(invisibleUntil)) {
    return undefined;
  }
  return { topic: parts[1], queueId, queueOffset, nonce, invisibleUntil };
}
