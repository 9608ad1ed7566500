// broker.conf as users bring it (Java properties): parseProperties never throws and keeps each
// key's line; loadConfig('broker') over the file returns a frozen config of the schema's types or
// a ConfigError whose every problem names the file and a line of it. Entries written back with
// Java's escapes parse to the same entries.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { BROKER_DEFAULTS, ConfigError, loadConfig, parseProperties, type PropertyEntry } from '../../src/config/index.js';
import { tokens } from '../mutator.js';
import { scratchDir } from '../scratch.js';
import type { Rand } from '../rand.js';
import { check, rejection, type FuzzTarget, type Verdict } from '../target.js';

let dir = '';
let file = '';
/** Every problem starts with file:line (the key may be anything, blanks and BOMs included). */
let where = /^/;

const SEED = `# a broker.conf as RocketMQ ships it
brokerClusterName = DefaultCluster
brokerName = broker-a
brokerId = 0
deleteWhen = 04
fileReservedTime = 48
brokerRole = ASYNC_MASTER
flushDiskType = ASYNC_FLUSH
namesrvAddr=127.0.0.1:9876;127.0.0.2:9876
listenPort:10911
storePathRootDir   ./data/store
maxMessageSize=4194304
messageDelayLevel=1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h
autoCreateTopicEnable=true
enablePropertyFilter=TRUE
diskMaxUsedSpaceRatio=75
`;

const SEED_ESCAPES = `! comment
brokerName = broker\\
    -b
brokerIP1=\\u0031\\u0032\\u0037.0.0.1
key\\ with\\ spaces=1
\\#notcomment=2
transactionTimeOut 6000\r\ntransactionCheckMax=15\rlongPollingEnable=false`;

/** Java's Properties.store escapes, enough for any key and value to read back as written. */
function escape(s: string, isKey: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const code = s.charCodeAt(i);
    if (c === '\\') out += '\\\\';
    else if (c === '\t') out += '\\t';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\f') out += '\\f';
    else if (c === '=' || c === ':' || c === '#' || c === '!') out += `\\${c}`;
    else if (c === ' ' && (isKey || i === 0)) out += '\\ ';
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return out;
}

function sameEntries(a: readonly PropertyEntry[], b: readonly PropertyEntry[]): boolean {
  return a.length === b.length && a.every((e, i) => e.key === b[i].key && e.value === b[i].value);
}

export const brokerConfTarget: FuzzTarget = {
  name: 'broker-conf',
  description: 'broker.conf: parse never throws, lines kept; loadConfig gives typed frozen config or ConfigError naming file:line',
  weight: 4,
  timeBoundMs: 200,
  maxInputLength: 8192,
  setup() {
    dir = scratchDir('apogee-fuzz-conf-');
    file = join(dir, 'broker.conf');
    where = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+): `);
  },
  teardown() {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = '';
  },
  seeds: () => [Buffer.from(SEED), Buffer.from(SEED_ESCAPES), Buffer.from('\ufeffbrokerName=x\n')],
  dictionary: () => tokens('\n', '\r\n', '\r', '\\', '\\u', '\\u00', '=', ':', ' ', '\t', '#', '!', '\ufeff', ...Object.keys(BROKER_DEFAULTS).map((k) => `\n${k}=`), 'true', '-1', '2147483648', '9007199254740993', '1e3', 'SYNC_FLUSH', '__proto__', 'constructor'),
  generate(r: Rand): Buffer {
    const keys = Object.keys(BROKER_DEFAULTS);
    const lines: string[] = [];
    for (let n = r.int(12); n > 0; n--) lines.push(`${r.pick(keys)}${r.pick(['=', ':', ' ', ' = '])}${r.pick(['0', '-1', 'true', 'x', '', '4294967296', 'ASYNC_FLUSH', '1s 2m', '127.0.0.1:9876', '\\u00'])}`);
    return Buffer.from(lines.join(r.pick(['\n', '\r\n', '\\\n'])));
  },
  run(input: Buffer): Verdict {
    const text = input.toString('utf8');
    const parsed = parseProperties(text);
    const lineCount = text.split(/\r\n|\r|\n/).length;
    let lastLine = 0;
    for (const e of parsed.entries) {
      check(e.line >= 1 && e.line <= lineCount && e.line > lastLine, () => `entry ${JSON.stringify(e.key)} on line ${e.line} of ${lineCount} (previous ${lastLine})`);
      lastLine = e.line;
    }
    for (const p of parsed.problems) check(p.line >= 1 && p.line <= lineCount, () => `problem on line ${p.line} of ${lineCount}`);
    if (parsed.problems.length === 0) {
      const written = parsed.entries.map((e) => `${escape(e.key, true)}=${escape(e.value, false)}`).join('\n');
      check(sameEntries(parseProperties(written).entries, parsed.entries), 'entries written back with escapes parse differently');
    }

    fs.writeFileSync(file, input);
    try {
      const config = loadConfig('broker', { file }) as unknown as Record<string, unknown>;
      check(Object.isFrozen(config), 'the loaded config is not frozen');
      for (const [key, spec] of Object.entries(BROKER_DEFAULTS)) {
        const want = spec.type === 'enum' ? 'string' : spec.type === 'bool' ? 'boolean' : spec.type === 'string' ? 'string' : 'number';
        check(typeof config[key] === want, () => `${key} is a ${typeof config[key]}, not a ${want}`);
      }
      return 'accepted';
    } catch (err) {
      // Keys and values are echoed in problems, so words like "undefined" may be the user's own.
      rejection(err, [ConfigError], { maxLength: 100 * input.length + 1000, echoesInput: true });
      for (const p of (err as ConfigError).problems) {
        const m = where.exec(p.message);
        check(m !== null, () => `a problem does not name the file and line: ${p.message.slice(0, 200)}`);
        check(Number(m[1]) >= 1 && Number(m[1]) <= lineCount, () => `a problem names line ${m[1]} of ${lineCount}`);
      }
      return 'rejected';
    }
  },
};
