// The properties string of a message (name \u0001 value \u0002 ...), as clients send it. There
// is no rejection: every string parses. The map parser (what clients and the gRPC converter see)
// and the in-string reads and edits of the send path (what the broker acts on: TAGS, KEYS,
// REAL_TOPIC, DELAY ...) must agree on every name, and an encoded map must parse back to itself.
import { isDeepStrictEqual } from 'node:util';
import {
  getPropertyFromString,
  isValidPropertyText,
  messageProperties2String,
  string2messageProperties,
} from '../../src/common/message-properties.js';
import { removePropertyFromString, setPropertyInString } from '../../src/common/property-edit.js';
import { tokens } from '../mutator.js';
import type { Rand } from '../rand.js';
import { check, type FuzzTarget, type Verdict } from '../target.js';

const NAMES = ['TAGS', 'KEYS', 'UNIQ_KEY', 'DELAY', 'REAL_TOPIC', 'REAL_QID', 'TRAN_MSG', 'TIMER_DELIVER_MS', 'WAIT', 'a', 'AGS', 'TAG'];

function agree(s: string, map: Record<string, string>, name: string, what: string): void {
  const got = getPropertyFromString(s, name);
  const want = Object.hasOwn(map, name) ? map[name] : undefined;
  check(got === want, () => `${what}: getPropertyFromString(${JSON.stringify(name)}) = ${JSON.stringify(got)} but the parsed map has ${JSON.stringify(want)} in ${JSON.stringify(s.slice(0, 120))}`);
}

/** A name the properties encoding can carry, taken from the input so it varies with it. */
function nameFrom(s: string, i: number): string {
  const n = NAMES[i % NAMES.length];
  return isValidPropertyText(n) ? n : 'TAGS';
}

export const messagePropertiesTarget: FuzzTarget = {
  name: 'message-properties',
  description: 'properties string: map parser vs in-string get/set/remove agree; encode∘parse is the identity on maps',
  weight: 15,
  timeBoundMs: 200,
  maxInputLength: 4096,
  seeds: () =>
    tokens(
      'TAGS\u0001TagA\u0002KEYS\u0001k1 k2\u0002UNIQ_KEY\u000101AB\u0002',
      'DELAY\u00013\u0002REAL_TOPIC\u0001T\u0002REAL_QID\u00011\u0002',
      'TAGS\u0001a\u0002TAGS\u0001b\u0002',
      'a\u0001\u0001b\u0002\u0002\u0001x\u0002noseparator',
      'TRAN_MSG\u0001true\u0002PGROUP\u0001pg\u0002',
      '',
    ),
  dictionary: () => tokens('\u0001', '\u0002', ...NAMES),
  generate(r: Rand): Buffer {
    const parts: string[] = [];
    for (let n = r.int(6); n > 0; n--) parts.push(r.pick(NAMES), r.pick(['\u0001', '\u0002', '']), r.pick(['v', '', '1', 'TAGS', '\u0001']), r.pick(['\u0002', '', '\u0001']));
    return Buffer.from(parts.join(''), 'utf8');
  },
  run(input: Buffer): Verdict {
    const s = input.toString('utf8');
    const map = string2messageProperties(s);
    for (const name of Object.keys(map)) {
      check(name.length > 0 && isValidPropertyText(name), () => `parsed name ${JSON.stringify(name)} cannot be encoded`);
      agree(s, map, name, 'read');
    }
    const name = nameFrom(s, input.length);
    agree(s, map, name, 'read');
    check(isDeepStrictEqual(string2messageProperties(messageProperties2String(map)), map), 'an encoded map parses to a different map');

    const value = `v${input.length}`;
    const set = setPropertyInString(s, name, value);
    const setMap = string2messageProperties(set);
    check(setMap[name] === value, () => `after set, the map has ${name}=${JSON.stringify(setMap[name])}, not ${value}`);
    agree(set, setMap, name, 'after set');
    const removed = removePropertyFromString(s, name);
    const removedMap = string2messageProperties(removed);
    check(!Object.hasOwn(removedMap, name), () => `after remove, the map still has ${name}=${JSON.stringify(removedMap[name])}`);
    agree(removed, removedMap, name, 'after remove');
    for (const other of Object.keys(map)) {
      if (other !== name) check(removedMap[other] === map[other], () => `removing ${name} changed ${other}`);
    }
    return 'accepted';
  },
};
