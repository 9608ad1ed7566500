// encodeSendProperties (issue 17: whole entry pieces instead of four concatenations per entry)
// against the straightforward encoding it replaced, kept here as the model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MessageConst } from '../../src/common/message-const.js';
import { encodeSendProperties, keysString, type Message } from '../../src/client/message.js';

const NV = '\u0001';
const SEP = '\u0002';
const EXPLICIT = new Set<string>([MessageConst.PROPERTY_TAGS, MessageConst.PROPERTY_KEYS, MessageConst.PROPERTY_DELAY_TIME_LEVEL, MessageConst.PROPERTY_TIMER_DELIVER_MS]);

function model(msg: Message, uniqKey: string | undefined): string {
  let s = '';
  let hasWait = false;
  let hasUniq = false;
  for (const [k, v] of Object.entries(msg.properties ?? {})) {
    if (v === undefined || v === null || EXPLICIT.has(k)) continue;
    if (k === MessageConst.PROPERTY_WAIT_STORE_MSG_OK) hasWait = true;
    else if (k === MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX) hasUniq = true;
    s += k + NV + v + SEP;
  }
  if (msg.tags) s += MessageConst.PROPERTY_TAGS + NV + msg.tags + SEP;
  const keys = keysString(msg.keys);
  if (keys) s += MessageConst.PROPERTY_KEYS + NV + keys + SEP;
  if (msg.delayTimeLevel !== undefined && msg.delayTimeLevel > 0) s += MessageConst.PROPERTY_DELAY_TIME_LEVEL + NV + String(msg.delayTimeLevel) + SEP;
  if (msg.deliverTimeMs !== undefined) s += MessageConst.PROPERTY_TIMER_DELIVER_MS + NV + String(msg.deliverTimeMs) + SEP;
  if (!hasWait) s += MessageConst.PROPERTY_WAIT_STORE_MSG_OK + NV + 'true' + SEP;
  if (uniqKey !== undefined && !hasUniq) s += MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX + NV + uniqKey + SEP;
  return s;
}

test('send properties - the encoding equals the entry-by-entry model for a table of messages', () => {
  const rows: Array<[Message, string | undefined]> = [
    [{ topic: 'T', body: 'x', tags: 'bench' }, '7F0000010001'],
    [{ topic: 'T', body: 'x' }, undefined],
    [{ topic: 'T', body: 'x', tags: 'a', keys: ['k1', 'k2'], delayTimeLevel: 3, deliverTimeMs: 5 }, 'U'],
    [{ topic: 'T', body: 'x', keys: '', properties: { WAIT: 'false', UNIQ_KEY: 'mine', TAGS: 'ignored', color: 'blue' } }, 'U'],
  ];
  for (const [m, u] of rows) assert.equal(encodeSendProperties(m, u), model(m, u), JSON.stringify(m));
  assert.equal(encodeSendProperties(rows[0][0], rows[0][1]), 'TAGS\u0001bench\u0002WAIT\u0001true\u0002UNIQ_KEY\u00017F0000010001\u0002');
});

test('send properties - property: the encoding equals the model for any message', () => {
  const text = fc.string({ maxLength: 10 }).filter((s) => !s.includes(NV) && !s.includes(SEP));
  const name = fc.oneof(fc.constantFrom('WAIT', 'UNIQ_KEY', 'TAGS', 'KEYS', 'DELAY', 'color'), text.filter((s) => s.length > 0));
  fc.assert(
    fc.property(
      fc.record(
        {
          tags: text,
          keys: fc.oneof(text, fc.array(text, { maxLength: 3 })),
          properties: fc.dictionary(name, text, { maxKeys: 4 }),
          delayTimeLevel: fc.integer({ min: -1, max: 18 }),
          deliverTimeMs: fc.integer({ min: 0, max: 2 ** 42 }),
        },
        { requiredKeys: [] },
      ),
      fc.option(text, { nil: undefined }),
      (fields, uniq) => {
        const m: Message = { topic: 'T', body: 'x', ...fields };
        assert.equal(encodeSendProperties(m, uniq), model(m, uniq));
      },
    ),
    { numRuns: 2000 },
  );
});
