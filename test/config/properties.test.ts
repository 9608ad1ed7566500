import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseProperties } from '../../src/config/index.js';

const kv = (text: string): [string, string, number][] =>
  parseProperties(text).entries.map((e) => [e.key, e.value, e.line]);

void describe('properties', () => {
  void test('properties - separators: =, :, blank, with surrounding blanks', () => {
    assert.deepEqual(kv('a=1\nb = 2\nc: 3\nd 4\n  e\t=\t5'), [
      ['a', '1', 1],
      ['b', '2', 2],
      ['c', '3', 3],
      ['d', '4', 4],
      ['e', '5', 5],
    ]);
  });

  void test('properties - comments and blank lines are skipped and line numbers still count them', () => {
    assert.deepEqual(kv('# comment\n! also\n\n   \nbrokerName=broker-a\r\n  # indented comment\nbrokerId=0'), [
      ['brokerName', 'broker-a', 5],
      ['brokerId', '0', 7],
    ]);
  });

  void test('properties - a # after the key is part of the value', () => {
    assert.deepEqual(kv('deleteWhen=04 # not a comment'), [['deleteWhen', '04 # not a comment', 1]]);
  });

  void test('properties - backslash continuation joins lines and drops the next line\'s leading blanks', () => {
    assert.deepEqual(kv('messageDelayLevel=1s 5s \\\n    10s\nnext=x'), [
      ['messageDelayLevel', '1s 5s 10s', 1],
      ['next', 'x', 3],
    ]);
  });

  void test('properties - an even number of trailing backslashes is an escaped backslash, not a continuation', () => {
    assert.deepEqual(kv('path=c:\\\\\nnext=1'), [
      ['path', 'c:\\', 1],
      ['next', '1', 2],
    ]);
  });

  void test('properties - escapes \\t \\n \\\\ \\uXXXX and escaped separators in keys', () => {
    assert.deepEqual(kv('k=a\\tb\\nc\\\\d\\u0041\\u00e9\nmy\\=key\\:x=v\nsp\\ ace=1'), [
      ['k', 'a\tb\nc\\dAé', 1],
      ['my=key:x', 'v', 2],
      ['sp ace', '1', 3],
    ]);
  });

  void test('properties - a malformed \\u escape is reported with its line', () => {
    const r = parseProperties('ok=1\nbad=\\u12x4');
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0].line, 2);
    assert.match(r.problems[0].message, /\\u/);
  });

  void test('properties - empty value and key-only lines', () => {
    assert.deepEqual(kv('namesrvAddr=\nlonely'), [
      ['namesrvAddr', '', 1],
      ['lonely', '', 2],
    ]);
  });

  void test('properties - a repeated key appears twice in order (the later wins when loading)', () => {
    assert.deepEqual(kv('a=1\na=2'), [
      ['a', '1', 1],
      ['a', '2', 2],
    ]);
  });

  void test('properties - simple key=value pairs round-trip through text (property)', () => {
    const key = fc.stringMatching(/^[A-Za-z][A-Za-z0-9.]{0,15}$/);
    const value = fc.oneof(fc.constant(''), fc.stringMatching(/^[A-Za-z0-9;:./-]([A-Za-z0-9;:./ -]{0,20}[A-Za-z0-9])?$/));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 10 }), (pairs) => {
        const text = pairs.map(([k, v]) => `${k}=${v}`).join('\n');
        assert.deepEqual(kv(text), pairs.map(([k, v], i) => [k, v, i + 1]));
      }),
    );
  });
});
