// convertForSend builds a 5.x message's properties string in one pass (issue 17 took its per-message
// closures out): a table of messages and the properties they must give, and the refusals.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageConst } from '../../src/common/message-const.js';
import { string2messageProperties } from '../../src/common/message-properties.js';
import { Code, ProxyError } from '../../src/proxy/grpc-code.js';
import { convertForSend, MessageType, type PbMessage } from '../../src/proxy/message-converter.js';

const body = Buffer.from('b');
const msg = (sp: NonNullable<PbMessage['systemProperties']>, user?: Record<string, string>): PbMessage => ({
  topic: { name: 'T' },
  body,
  userProperties: user,
  systemProperties: { messageId: 'ID1', ...sp },
});

void describe('proxy message converter', () => {
  const rows: { name: string; m: PbMessage; props: Record<string, string>; sysFlag?: number }[] = [
    { name: 'id only', m: msg({}), props: { [MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX]: 'ID1' } },
    {
      name: 'tag, keys with empty ones left out, born host',
      m: msg({ tag: 'TagA', keys: ['', 'k1', '', 'k2'], bornHost: 'h1' }),
      props: { [MessageConst.PROPERTY_TAGS]: 'TagA', [MessageConst.PROPERTY_KEYS]: 'k1 k2', [MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX]: 'ID1', [MessageConst.PROPERTY_BORN_HOST]: 'h1' },
    },
    { name: 'only empty keys add no KEYS', m: msg({ keys: ['', ''] }), props: { [MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX]: 'ID1' } },
    {
      name: 'user properties first, message group, trace context',
      m: msg({ messageGroup: 'g1', traceContext: 'tc', messageType: MessageType.FIFO }, { a: '1', b: '2' }),
      props: { a: '1', b: '2', [MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX]: 'ID1', [MessageConst.PROPERTY_SHARDING_KEY]: 'g1', [MessageConst.PROPERTY_TRACE_CONTEXT]: 'tc' },
    },
    {
      name: 'transaction with a recovery time',
      m: msg({ messageType: MessageType.TRANSACTION, orphanedTransactionRecoveryDuration: { seconds: 7200 } }),
      props: {
        [MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX]: 'ID1',
        [MessageConst.PROPERTY_TRANSACTION_PREPARED]: 'true',
        [MessageConst.PROPERTY_PRODUCER_GROUP]: 'T',
        [MessageConst.PROPERTY_CHECK_IMMUNITY_TIME_IN_SECONDS]: '3600',
      },
      sysFlag: 4,
    },
    {
      name: 'delay with a delivery time',
      m: msg({ messageType: MessageType.DELAY, deliveryTimestamp: { seconds: 1_700_000_000, nanos: 5_000_000 } }),
      props: { [MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX]: 'ID1', [MessageConst.PROPERTY_TIMER_DELIVER_MS]: '1700000000005' },
    },
  ];
  for (const r of rows) {
    void test(`message converter - ${r.name} (issue 17)`, () => {
      const c = convertForSend(r.m, 1024);
      // Order matters to nobody but the bytes: compare the parsed map, and that nothing is doubled.
      assert.deepEqual(string2messageProperties(c.properties), r.props);
      assert.equal(c.properties.split('\u0002').length - 1, Object.keys(r.props).length);
      assert.equal(c.sysFlag, r.sysFlag ?? 0);
      assert.equal(c.messageId, 'ID1');
    });
  }

  void test('message converter - illegal keys, tags and groups are refused with a code naming them (issue 17)', () => {
    const refused: [PbMessage, number, RegExp][] = [
      [msg({ keys: ['ok', 'has space'] }), Code.ILLEGAL_MESSAGE_KEY, /message key "has space"/],
      [msg({ keys: ['ctl\u0001'] }), Code.ILLEGAL_MESSAGE_KEY, /message key/],
      [msg({ tag: 'a|b' }), Code.ILLEGAL_MESSAGE_TAG, /tag "a\|b"/],
      [msg({ messageGroup: 'x'.repeat(64) }), Code.ILLEGAL_MESSAGE_GROUP, /message group/],
      [msg({}, { [MessageConst.PROPERTY_KEYS]: 'x' }), Code.ILLEGAL_MESSAGE_PROPERTY_KEY, /reserved/],
    ];
    for (const [m, code, text] of refused) {
      assert.throws(
        () => convertForSend(m, 1024),
        (e: unknown) => e instanceof ProxyError && e.code === code && text.test(e.message),
      );
    }
  });
});
