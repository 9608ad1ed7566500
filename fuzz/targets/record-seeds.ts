// Stored records to mutate: IPv4 and IPv6 hosts, V1 and V2 (long topic) magic, with and without
// properties and body.
import { encodeMessage, type MessageRecordInput } from '../../src/common/message-codec.js';
import { MessageSysFlag } from '../../src/common/sys-flag.js';

export function record(over: Partial<MessageRecordInput>): MessageRecordInput {
  return {
    topic: 'TopicTest',
    queueId: 1,
    flag: 0,
    body: Buffer.from('hello record'),
    properties: 'TAGS\u0001t\u0002UNIQ_KEY\u000101AB\u0002',
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000,
    bornHost: { address: '10.0.0.1', port: 5555 },
    storeHost: { address: '10.0.0.2', port: 10911 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    queueOffset: 0,
    commitLogOffset: 0,
    storeTimestamp: 1_700_000_000_100,
    ...over,
  };
}

export const RECORD_VARIANTS: Partial<MessageRecordInput>[] = [
  {},
  { bornHost: { address: 'fe80::1', port: 1 }, storeHost: { address: '2001:db8::2', port: 2 } },
  { bornHost: { address: 'fe80::1', port: 1 } },
  { topic: 'T'.repeat(200), properties: '' },
  { body: Buffer.alloc(0), properties: 'DELAY\u00013\u0002', sysFlag: MessageSysFlag.TRANSACTION_PREPARED_TYPE },
  { body: Buffer.alloc(100, 0x61), queueOffset: 2 ** 40, commitLogOffset: 123456, reconsumeTimes: 3, preparedTransactionOffset: 99 },
];

export function recordSeeds(): Buffer[] {
  return RECORD_VARIANTS.map((v) => encodeMessage(record(v)));
}
