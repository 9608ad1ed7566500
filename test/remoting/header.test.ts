import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BrokerError, decodeHeader, parseField, ResponseCode, type HeaderSchema } from '../../src/remoting/index.js';

const SCHEMA = {
  topic: { type: 'string', required: true },
  queueId: { type: 'int', required: true },
  commitOffset: { type: 'long' },
  unitMode: { type: 'bool' },
  tags: { type: 'string' },
} as const satisfies HeaderSchema;

function invalid(fn: () => unknown, field: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BrokerError, `expected BrokerError, got ${String(err)}`);
    assert.equal(err.code, ResponseCode.INVALID_PARAMETER);
    assert.ok(err.remark.includes(`<${field}>`), `remark "${err.remark}" names ${field}`);
    assert.match(err.remark, pattern);
    return true;
  });
}

void describe('header', () => {
  void test('header - decodes every type', () => {
    const h = decodeHeader(SCHEMA, { topic: 'T', queueId: '3', commitOffset: '9007199254740991', unitMode: 'true', tags: 'a||b' });
    assert.deepEqual(h, { topic: 'T', queueId: 3, commitOffset: 9007199254740991, unitMode: true, tags: 'a||b' });
    const typed: { topic: string; queueId: number; commitOffset: number | undefined; unitMode: boolean | undefined } = h;
    void typed;
  });

  void test('header - optional fields that are absent or empty decode as undefined, extra fields are ignored', () => {
    const h = decodeHeader(SCHEMA, { topic: 'T', queueId: '0', commitOffset: '', other: 'x' });
    assert.deepEqual(h, { topic: 'T', queueId: 0, commitOffset: undefined, unitMode: undefined, tags: undefined });
  });

  void test('header - an empty string is a value for string fields, required or not', () => {
    assert.equal(decodeHeader(SCHEMA, { topic: '', queueId: '1' }).topic, '');
    assert.equal(decodeHeader(SCHEMA, { topic: 'T', queueId: '1', tags: '' }).tags, '');
  });

  void test('header - a missing required field is INVALID_PARAMETER naming the field', () => {
    invalid(() => decodeHeader(SCHEMA, { queueId: '1' }), 'topic', /is null/);
    invalid(() => decodeHeader(SCHEMA, { topic: 'T' }), 'queueId', /is null/);
    invalid(() => decodeHeader(SCHEMA, { topic: 'T', queueId: '' }), 'queueId', /is null/);
  });

  const INTS: [string, number][] = [
    ['0', 0],
    ['42', 42],
    ['-7', -7],
    ['+3', 3],
    [' 12 ', 12],
    ['007', 7],
    ['2147483647', 2147483647],
    ['-2147483648', -2147483648],
  ];
  for (const [raw, want] of INTS) {
    void test(`header - int "${raw}" parses as ${want}`, () => {
      assert.equal(parseField('queueId', 'int', raw), want);
    });
  }

  const BAD_NUMBERS: [string, RegExp][] = [
    ['abc', /not a number/],
    ['1.5', /not a number/],
    ['1e3', /not a number/],
    ['0x10', /not a number/],
    ['--1', /not a number/],
    ['12abc', /not a number/],
    ['Infinity', /not a number/],
  ];
  for (const [raw, pattern] of BAD_NUMBERS) {
    void test(`header - int and long "${raw}" are INVALID_PARAMETER naming the field`, () => {
      invalid(() => parseField('queueId', 'int', raw), 'queueId', pattern);
      invalid(() => parseField('commitOffset', 'long', raw), 'commitOffset', pattern);
    });
  }

  void test('header - int out of range is INVALID_PARAMETER', () => {
    invalid(() => parseField('queueId', 'int', '2147483648'), 'queueId', /out of int range/);
    invalid(() => parseField('queueId', 'int', '-2147483649'), 'queueId', /out of int range/);
  });

  void test('header - long parses beyond int range and rejects beyond safe integers', () => {
    assert.equal(parseField('commitOffset', 'long', '1700000000123'), 1700000000123);
    assert.equal(parseField('commitOffset', 'long', '-9007199254740991'), -9007199254740991);
    invalid(() => parseField('commitOffset', 'long', '9007199254740992'), 'commitOffset', /out of range/);
    invalid(() => parseField('commitOffset', 'long', '9223372036854775807'), 'commitOffset', /out of range/);
  });

  void test('header - a bad value long remark is cut short', () => {
    assert.throws(
      () => parseField('queueId', 'int', 'x'.repeat(1000)),
      (err: unknown) => err instanceof BrokerError && err.remark.length < 120,
    );
  });

  const BOOLS: [string, boolean][] = [
    ['true', true],
    ['TRUE', true],
    ['True', true],
    ['false', false],
    ['1', false],
    ['yes', false],
    ['', false],
  ];
  for (const [raw, want] of BOOLS) {
    void test(`header - bool "${raw}" is ${want} as Java Boolean.parseBoolean`, () => {
      assert.equal(parseField('unitMode', 'bool', raw), want);
    });
  }

  void test('header - fields decoded from ali-ons numbers and booleans (already strings) parse', () => {
    const h = decodeHeader(
      { queueId: { type: 'int', required: true }, unitMode: { type: 'bool', required: true }, g: { type: 'long', required: true } },
      { queueId: String(3), unitMode: String(false), g: String(1700000000123) },
    );
    assert.deepEqual(h, { queueId: 3, unitMode: false, g: 1700000000123 });
  });
});
