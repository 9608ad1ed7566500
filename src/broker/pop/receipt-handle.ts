// Receipt handle of a popped message: Base64-URL of "p1 <topic> <queueId> <queueOffset> <nonce> <invisibleUntil>".
// The nonce changes on every change of invisibility, so an old handle stops working.
export interface ReceiptHandle {
  topic: string;
  queueId: number;
  queueOffset: number;
  nonce: number;
  invisibleUntil: number;
}

export function encodeReceiptHandle(h: ReceiptHandle): string {
  return Buffer.from(`p1 ${h.topic} ${h.queueId} ${h.queueOffset} ${h.nonce} ${h.invisibleUntil}`, 'utf8').toString('base64url');
}

/** undefined when the text is not a handle this broker issued. */
export function decodeReceiptHandle(text: string): ReceiptHandle | undefined {
  if (!text || text.length > 2048) return undefined;
  const parts = Buffer.from(text, 'base64url').toString('utf8').split(' ');
  if (parts.length !== 6 || parts[0] !== 'p1') return undefined;
  const [queueId, queueOffset, nonce, invisibleUntil] = parts.slice(2).map(Number);
  if (![queueId, queueOffset, nonce, invisibleUntil].every(Number.isSafeInteger)) return undefined;
  return { topic: parts[1], queueId, queueOffset, nonce, invisibleUntil };
}
