// Request-header decoding from extFields: the generic schema decoder (every field type, required
// and optional) and the SEND_MESSAGE header with its hand-written V2 fast path, which must give the
// same values and the same remarks as the schema decoder. Input: a selector byte, then
// NUL-separated key, value, key, value... Rejection: BrokerError(INVALID_PARAMETER) naming the field.
import { isDeepStrictEqual } from 'node:util';
import { decodeSendHeader } from '../../src/broker/send-message-header.js';
import { BrokerError, createRequest, decodeHeader, RequestCode, ResponseCode, type HeaderSchema } from '../../src/remoting/index.js';
import * as protocol from '../../src/remoting/protocol/index.js';
import { SEND_MESSAGE_HEADER, SEND_MESSAGE_HEADER_V2 as V2 } from '../../src/remoting/protocol/index.js';
import { tokens } from '../mutator.js';
import type { Rand } from '../rand.js';
import { check, rejection, type FuzzTarget, type Verdict } from '../target.js';

/** Every request and response header the protocol declares, decoded by the one generic decoder. */
const SCHEMAS: [string, HeaderSchema][] = Object.entries(protocol as Record<string, unknown>)
  .filter(([name, v]) => name.endsWith('_HEADER') && typeof v === 'object' && v !== null)
  .map(([name, v]) => [name, v as HeaderSchema]);
const V1_NAMES = Object.keys(SEND_MESSAGE_HEADER);
const V2_NAMES = Object.keys(V2);

const CODES = [RequestCode.SEND_MESSAGE, RequestCode.SEND_MESSAGE_V2, RequestCode.SEND_BATCH_MESSAGE];
const REMARK = /^the custom field <\w+> (is null|is not a number: ".*"|is out of int range: \S+|is out of range: \S+)$/s;

/** The selector byte names the send request code and one of the protocol's schemas. */
function parseInput(input: Buffer): { code: number; schema: HeaderSchema; ext: Record<string, string> } {
  const code = CODES[(input[0] ?? 0) % CODES.length];
  const schema = SCHEMAS[Math.floor((input[0] ?? 0) / CODES.length) % SCHEMAS.length][1];
  const parts = input.toString('utf8', 1).split('\u0000');
  const ext: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) {
    // As the codec stores them: an own property even for "__proto__".
    Object.defineProperty(ext, parts[i], { value: parts[i + 1], enumerable: true, writable: true, configurable: true });
  }
  return { code, schema, ext };
}

function outcome(fn: () => unknown): { ok?: unknown; code?: number; remark?: string } {
  try {
    return { ok: fn() };
  } catch (err) {
    rejection(err, [BrokerError], { pattern: REMARK, maxLength: 200 });
    const e = err as BrokerError;
    check(e.code === ResponseCode.INVALID_PARAMETER, () => `header rejected with code ${e.code}, not INVALID_PARAMETER`);
    return { code: e.code, remark: e.remark };
  }
}

function checkTypes(schema: Record<string, { type: string }>, h: Record<string, unknown>): void {
  for (const [name, spec] of Object.entries(schema)) {
    const v = h[name];
    if (v === undefined) continue;
    if (spec.type === 'int') check(Number.isInteger(v) && (v as number) >= -2147483648 && (v as number) <= 2147483647, () => `${name} = ${String(v)} is not an int`);
    else if (spec.type === 'long') check(Number.isSafeInteger(v), () => `${name} = ${String(v)} is not a safe integer`);
    else if (spec.type === 'bool') check(typeof v === 'boolean', () => `${name} is not a boolean`);
    else check(typeof v === 'string', () => `${name} is not a string`);
  }
}

/** The fast path's result rebuilt from the schema decoder (bornTimestamp left out: it defaults to now). */
function viaSchema(ext: Record<string, string>, code: number): unknown {
  const h = decodeHeader(V2, ext);
  checkTypes(V2, h);
  return {
    producerGroup: h.a,
    topic: h.b,
    defaultTopic: h.c || 'TBW102',
    defaultTopicQueueNums: h.d ?? 4,
    queueId: h.e ?? -1,
    sysFlag: h.f ?? 0,
    flag: h.h ?? 0,
    properties: h.i ?? '',
    reconsumeTimes: h.j ?? 0,
    unitMode: h.k ?? false,
    maxReconsumeTimes: h.l,
    batch: h.m ?? code === RequestCode.SEND_BATCH_MESSAGE,
    brokerName: h.n,
  };
}

function sendHeader(code: number, ext: Record<string, string>): ReturnType<typeof outcome> {
  return outcome(() => {
    const h = decodeSendHeader({ ...createRequest(code), extFields: ext });
    check(Number.isSafeInteger(h.bornTimestamp), 'bornTimestamp is not a safe integer');
    const { bornTimestamp: _born, ...rest } = h;
    return rest;
  });
}

/** The same fields under SEND_MESSAGE's full names (V2 letters are a renaming of them). */
function toV1(ext: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < V2_NAMES.length; i++) if (Object.hasOwn(ext, V2_NAMES[i])) out[V1_NAMES[i]] = ext[V2_NAMES[i]];
  return out;
}

const NUMBERISH = ['', '0', '-0', '+7', ' 7 ', '1.5', '1e3', '0x10', '2147483647', '2147483648', '-2147483649', '9007199254740991', '9007199254740993', '99999999999999999999', 'true', 'TRUE', 'x', '٣'];

/** The selector byte of a send request code (index in CODES) and a schema. */
function selector(codeIndex: number, schemaName: string): number {
  return SCHEMAS.findIndex(([n]) => n === schemaName) * CODES.length + codeIndex;
}

const VALID: Record<string, string> = { string: 'x', int: '1', long: '1700000000000', bool: 'true' };

function encodeInput(selectorByte: number, ext: Record<string, string>): Buffer {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(ext)) parts.push(k, v);
  return Buffer.concat([Buffer.from([selectorByte]), Buffer.from(parts.join('\u0000'), 'utf8')]);
}

export const headersTarget: FuzzTarget = {
  name: 'headers',
  description: 'extFields → typed headers: schema decoder and the SEND_MESSAGE_V2 fast path agree; errors name the field',
  weight: 12,
  timeBoundMs: 200,
  maxInputLength: 2048,
  seeds: () => [
    encodeInput(selector(1, 'SEND_MESSAGE_HEADER_V2'), { a: 'PG', b: 'TopicTest', c: 'TBW102', d: '4', e: '3', f: '0', g: '1700000000000', h: '0', i: 'TAGS\u0001t\u0002', j: '0', k: 'false', l: '16', m: 'false', n: 'broker-a' }),
    encodeInput(selector(2, 'SEND_MESSAGE_HEADER_V2'), { a: 'PG', b: 'T', m: 'true' }),
    encodeInput(selector(0, 'SEND_MESSAGE_HEADER'), { producerGroup: 'PG', topic: 'T', defaultTopic: 'TBW102', defaultTopicQueueNums: '4', queueId: '1', sysFlag: '0', bornTimestamp: '1', flag: '0', properties: '', reconsumeTimes: '0', unitMode: 'false', batch: 'false' }),
    // One valid header of every schema the protocol declares.
    ...SCHEMAS.map(([name, schema]) => encodeInput(selector(1, name), Object.fromEntries(Object.entries(schema).map(([k, spec]) => [k, VALID[spec.type]])))),
  ],
  dictionary: () => tokens('\u0000', ...NUMBERISH, 'a', 'b', 'd', 'e', 'g', 'l', 'm', 'queueId', 'queueOffset', 'topic', '__proto__', 'constructor', 'toString'),
  generate(r: Rand): Buffer {
    const ext: Record<string, string> = {};
    const pick = r.int(CODES.length * SCHEMAS.length);
    const schema = r.chance(0.5) ? V2 : SCHEMAS[Math.floor(pick / CODES.length)][1];
    for (const k of Object.keys(schema)) if (r.chance(0.7)) ext[k] = r.chance(0.6) ? r.pick(NUMBERISH) : String(r.int(1 << 30) - (1 << 29));
    return encodeInput(pick, ext);
  },
  run(input: Buffer): Verdict {
    const { code, schema, ext } = parseInput(input);
    const r = outcome(() => decodeHeader(schema, ext));
    if (r.ok) checkTypes(schema, r.ok as Record<string, unknown>);
    const fast = sendHeader(code, ext);
    if (code !== RequestCode.SEND_MESSAGE) {
      const slow = outcome(() => viaSchema(ext, code));
      check(isDeepStrictEqual(fast, slow), () => `fast path ${JSON.stringify(fast).slice(0, 200)} but schema ${JSON.stringify(slow).slice(0, 200)}`);
      // SEND_MESSAGE with the same values under the full names must decode to the same header.
      const v1 = sendHeader(RequestCode.SEND_MESSAGE, toV1(ext));
      if (code === RequestCode.SEND_MESSAGE_V2) {
        check((v1.ok === undefined) === (fast.ok === undefined), () => `V1 ${JSON.stringify(v1).slice(0, 200)} but V2 ${JSON.stringify(fast).slice(0, 200)}`);
        if (v1.ok) check(isDeepStrictEqual(v1.ok, fast.ok), () => `V1 ${JSON.stringify(v1.ok).slice(0, 200)} but V2 ${JSON.stringify(fast.ok).slice(0, 200)}`);
      }
    }
    return fast.ok !== undefined ? 'accepted' : 'rejected';
  },
};
