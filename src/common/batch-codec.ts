// The body of SEND_BATCH_MESSAGE: a concatenation of items
//   int totalSize | int magic (0) | int bodyCRC (0) | int flag | int bodyLen + body | short propsLen + props

export interface BatchItem {
  flag: number;
  body: Buffer;
  properties: string;
}

export class BatchDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BatchDecodeError';
  }
}

/** Decodes a batch body; bodies are views on `body`. Throws BatchDecodeError naming the byte. */
export function decodeBatchBody(body: Buffer, maxItems = 10_000): BatchItem[] {
  const items: BatchItem[] = [];
  let p = 0;
  const bad = (why: string): never => {
    throw new BatchDecodeError(`malformed batch body at byte ${p}: ${why}`);
  };
  while (p < body.length) {
    if (items.length >= maxItems) bad(`more than ${maxItems} messages`);
    if (body.length - p < 22) bad('truncated item header');
    const total = body.readInt32BE(p);
    if (total < 22 || p + total > body.length) bad(`item size ${total}`);
    const flag = body.readInt32BE(p + 12);
    const bodyLen = body.readInt32BE(p + 16);
    if (bodyLen < 0 || 22 + bodyLen > total) bad(`body length ${bodyLen}`);
    const b = body.subarray(p + 20, p + 20 + bodyLen);
    const propsLen = body.readInt16BE(p + 20 + bodyLen);
    if (propsLen < 0 || 22 + bodyLen + propsLen !== total) bad(`properties length ${propsLen}`);
    const props = body.toString('utf8', p + 22 + bodyLen, p + 22 + bodyLen + propsLen);
    items.push({ flag, body: b, properties: props });
    p += total;
  }
  if (items.length === 0) bad('no messages');
  return items;
}

/** Encodes items as a producer does. */
export function encodeBatchBody(items: readonly BatchItem[]): Buffer {
  const parts: Buffer[] = [];
  for (const it of items) {
    const props = Buffer.from(it.properties, 'utf8');
    const head = Buffer.alloc(20);
    head.writeInt32BE(22 + it.body.length + props.length, 0);
    head.writeInt32BE(it.flag, 12);
    head.writeInt32BE(it.body.length, 16);
    const pl = Buffer.alloc(2);
    pl.writeInt16BE(props.length, 0);
    parts.push(head, it.body, pl, props);
  }
  return Buffer.concat(parts);
}
