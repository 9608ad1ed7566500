// SEND_BATCH_MESSAGE bodies: decodeBatchBody either refuses with a BatchDecodeError naming the
// byte, or returns items that tile the whole body, whose bodies are views of it, and that
// re-encode to a body decoding to the same items.
import { BatchDecodeError, decodeBatchBody, encodeBatchBody, type BatchItem } from '../../src/common/batch-codec.js';
import { int32Tokens, tokens } from '../mutator.js';
import type { Rand } from '../rand.js';
import { check, rejection, type FuzzTarget, type Verdict } from '../target.js';

function item(body: string, properties: string, flag = 0): BatchItem {
  return { flag, body: Buffer.from(body), properties };
}

function sameItems(a: BatchItem[], b: BatchItem[]): boolean {
  return a.length === b.length && a.every((x, i) => x.flag === b[i].flag && x.body.equals(b[i].body) && x.properties === b[i].properties);
}

export const batchBodyTarget: FuzzTarget = {
  name: 'batch-body',
  description: 'SEND_BATCH_MESSAGE body: BatchDecodeError at a byte, or items that tile the body and round-trip',
  weight: 15,
  timeBoundMs: 200,
  maxInputLength: 16384,
  seeds: () => [
    encodeBatchBody([item('one', 'TAGS\u0001a\u0002'), item('two', ''), item('', 'KEYS\u0001k\u0002UNIQ_KEY\u0001AB\u0002', 5)]),
    encodeBatchBody([item('x'.repeat(300), 'WAIT\u0001true\u0002')]),
    encodeBatchBody(Array.from({ length: 20 }, (_, i) => item(`m${i}`, `i\u0001${i}\u0002`))),
  ],
  dictionary: () => [...int32Tokens(0, 22, 23, -1, 0x7fffffff, 21), ...tokens('\u0001', '\u0002', Buffer.from([0x7f, 0xff]), Buffer.from([0xff, 0xff]))],
  generate(r: Rand): Buffer {
    const n = 1 + r.int(5);
    const items = Array.from({ length: n }, () => ({ flag: r.u32() | 0, body: r.bytes(r.int(40)), properties: r.chance(0.5) ? '' : `k${r.int(9)}\u0001${r.bytes(r.int(12)).toString('latin1')}\u0002` }));
    return encodeBatchBody(items);
  },
  run(input: Buffer): Verdict {
    let items: BatchItem[];
    try {
      items = decodeBatchBody(input);
    } catch (err) {
      return rejection(err, [BatchDecodeError], { pattern: /^malformed batch body at byte \d+: / });
    }
    check(items.length > 0, 'no items and no error');
    let size = 0;
    for (const it of items) {
      check(it.body.buffer === input.buffer, 'an item body is not a view of the batch');
      size += 22 + it.body.length + Buffer.byteLength(it.properties);
    }
    // Invalid UTF-8 in the properties grows when re-encoded; only well-formed text must tile exactly.
    if (items.every((it) => !it.properties.includes('\ufffd'))) check(size === input.length, () => `items cover ${size} of ${input.length} bytes`);
    const re = encodeBatchBody(items);
    check(sameItems(decodeBatchBody(re), items), 're-encoded batch decodes differently');
    return 'accepted';
  },
};
