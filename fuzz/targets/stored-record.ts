// Stored-message records (commit log layout, = a pull response body entry), as a client or the
// cluster proxy decodes them off the wire. decodeMessage refuses with MessageDecodeError or returns
// a record; it must agree with the recovery check (checkRecord) on which records are good, and a
// good record must re-encode to one that decodes to the same fields.
import { readLong } from '../../src/common/message-bytes.js';
import {
  decodeMessage,
  decodeMessages,
  encodeMessage,
  MESSAGE_MAGIC_CODE_V1,
  MESSAGE_MAGIC_CODE_V2,
  MessageDecodeError,
  type MessageRecord,
} from '../../src/common/message-codec.js';
import { checkRecord } from '../../src/store/commit-log.js';
import { int32Tokens, tokens } from '../mutator.js';
import { check, rejection, type FuzzTarget, type Verdict } from '../target.js';
import { recordSeeds } from './record-seeds.js';

const REMARK = /^bad record at \d+: /;

function decode(buf: Buffer): MessageRecord | undefined {
  try {
    return decodeMessage(buf, 0);
  } catch (err) {
    rejection(err, [MessageDecodeError], { pattern: REMARK });
    return undefined;
  }
}

const SAME_FIELDS = ['topic', 'queueId', 'flag', 'properties', 'queueOffset', 'commitLogOffset', 'bornTimestamp', 'storeTimestamp', 'reconsumeTimes', 'preparedTransactionOffset'] as const;

function roundTrip(m: MessageRecord): void {
  const longs = [m.queueOffset, m.commitLogOffset, m.bornTimestamp, m.storeTimestamp, m.preparedTransactionOffset];
  // Longs past 2^53 are not exact as numbers, and invalid UTF-8 does not survive text: both are
  // outside what the broker itself writes.
  if (!longs.every(Number.isSafeInteger)) return;
  if (m.properties.includes('\ufffd') || m.topic.includes('\ufffd')) return;
  const again = decodeMessage(encodeMessage(m), 0);
  for (const f of SAME_FIELDS) check(again[f] === m[f], () => `re-encoded record has ${f}=${String(again[f])}, not ${String(m[f])}`);
  check(again.body.equals(m.body), 're-encoded body differs');
  check(again.bornHost.port === m.bornHost.port && again.storeHost.port === m.storeHost.port, 're-encoded ports differ');
}

function decodeOne(input: Buffer): Verdict {
  const m = decode(input);
  // The recovery check sees a record once magic and size passed; from there both must agree.
  if (input.length >= 8) {
    const size = input.readInt32BE(0);
    const magic = input.readInt32BE(4);
    if ((magic === MESSAGE_MAGIC_CODE_V1 || magic === MESSAGE_MAGIC_CODE_V2) && size >= 91 && size <= input.length) {
      const why = checkRecord(input, 0, size, readLong(input, 28));
      check((why === undefined) === (m !== undefined), () => `checkRecord says ${why ?? 'good'} but decodeMessage ${m ? 'accepted it' : 'refused it'}`);
    }
  }
  if (!m) return 'rejected';
  check(m.totalSize >= 91 && m.totalSize <= input.length, `totalSize ${m.totalSize} outside the buffer`);
  check(m.body.buffer === input.buffer, 'body is not a view of the buffer');
  roundTrip(m);
  return 'accepted';
}

export const storedRecordTarget: FuzzTarget = {
  name: 'stored-record',
  description: 'decodeMessage/decodeMessages: MessageDecodeError or a record; agrees with the recovery check; round-trips',
  weight: 15,
  timeBoundMs: 200,
  maxInputLength: 8192,
  seeds: () => {
    const s = recordSeeds();
    return [...s, Buffer.concat(s.slice(0, 3))];
  },
  dictionary: () => [...int32Tokens(MESSAGE_MAGIC_CODE_V1, MESSAGE_MAGIC_CODE_V2, 0xcbd43194, 91, 0x30, 0x10, 0x20, 0), ...tokens(Buffer.from([0x7f]), Buffer.from([0x80]), Buffer.from([0x7f, 0xff]))],
  run(input: Buffer): Verdict {
    let verdict = decodeOne(input);
    if (input.length >= 8 && input.readInt32BE(0) !== input.length) {
      // With TOTALSIZE repaired, mutations reach the fields behind it.
      const fixed = Buffer.from(input);
      fixed.writeInt32BE(input.length, 0);
      verdict = decodeOne(fixed);
    }
    try {
      const all = decodeMessages(input, { checkCrc: false });
      check(all.reduce((n, m) => n + m.totalSize, 0) === input.length, 'decodeMessages does not cover the buffer');
    } catch (err) {
      rejection(err, [MessageDecodeError], { pattern: REMARK });
    }
    return verdict;
  },
};
