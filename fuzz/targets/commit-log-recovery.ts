// Commit-log recovery over a damaged store: the input becomes one or two segment files (a 2-byte
// length of the first, then both files' bytes) in a temp dir, and CommitLog.recover runs over them.
// It must never throw, must keep exactly the records a naive scan with decodeMessage (CRC checked)
// accepts, up to the first bad one, and must cut the files there.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/logger.js';
import { BLANK_MAGIC_CODE, decodeMessage, encodeMessage, MESSAGE_MAGIC_CODE_V1, MESSAGE_MAGIC_CODE_V2 } from '../../src/common/message-codec.js';
import { CommitLog, END_FILE_MIN_BLANK_LENGTH } from '../../src/store/commit-log.js';
import { DEFAULT_STORE_CONFIG, offset2FileName, type MessageStoreConfig } from '../../src/store/store-config.js';
import { int32Tokens } from '../mutator.js';
import { scratchDir } from '../scratch.js';
import { check, type FuzzTarget, type Verdict } from '../target.js';
import { record, RECORD_VARIANTS } from './record-seeds.js';

const SEG = 4096;

let root = '';
let config: MessageStoreConfig;

function segmentFiles(input: Buffer): Buffer[] {
  if (input.length < 2) return [];
  const body = input.subarray(2);
  const first = Math.min(input.readUInt16BE(0), SEG, body.length);
  const files = [body.subarray(0, first)];
  if (body.length > first) files.push(body.subarray(first, first + SEG));
  return files;
}

interface Scan {
  validEnd: number;
  records: string[];
}

/** What recovery must keep, worked out the slow way with the record decoder. */
function naiveScan(files: Buffer[]): Scan {
  const records: string[] = [];
  let validEnd = 0;
  for (let idx = 0; idx < files.length; idx++) {
    const f = files[idx];
    const start = idx * SEG;
    const last = idx === files.length - 1;
    let pos = 0;
    for (;;) {
      if (pos === f.length && last) return { validEnd: start + pos, records };
      if (pos + 8 > f.length) return { validEnd: start + pos, records };
      const size = f.readInt32BE(pos);
      const magic = f.readInt32BE(pos + 4);
      if (magic === BLANK_MAGIC_CODE) {
        if (size === SEG - pos) break;
        return { validEnd: start + pos, records };
      }
      if (magic !== MESSAGE_MAGIC_CODE_V1 && magic !== MESSAGE_MAGIC_CODE_V2) return { validEnd: start + pos, records };
      if (size < 91 || pos + size + END_FILE_MIN_BLANK_LENGTH > SEG || pos + size > f.length) return { validEnd: start + pos, records };
      try {
        const m = decodeMessage(f.subarray(0, pos + size), pos);
        if (m.commitLogOffset !== start + pos) return { validEnd: start + pos, records };
      } catch {
        return { validEnd: start + pos, records };
      }
      records.push(`${start + pos}+${size}`);
      pos += size;
    }
    validEnd = start + SEG;
  }
  return { validEnd, records };
}

function writeStore(files: Buffer[]): void {
  const dir = join(root, 'commitlog');
  for (const name of fs.readdirSync(dir)) fs.unlinkSync(join(dir, name));
  files.forEach((f, i) => fs.writeFileSync(join(dir, offset2FileName(i * SEG)), f));
}

/** A store as the broker writes it: records at their own offsets, a blank record ending the first segment. */
function store(variants: number[], second: number[]): Buffer {
  const segment = (start: number, picks: number[], blank: boolean): Buffer => {
    const parts: Buffer[] = [];
    let pos = 0;
    for (const v of picks) {
      const rec = encodeMessage(record({ ...RECORD_VARIANTS[v], commitLogOffset: start + pos, queueOffset: parts.length }));
      if (pos + rec.length + END_FILE_MIN_BLANK_LENGTH > SEG) break;
      parts.push(rec);
      pos += rec.length;
    }
    if (blank) {
      const b = Buffer.alloc(8);
      b.writeInt32BE(SEG - pos, 0);
      b.writeInt32BE(BLANK_MAGIC_CODE, 4);
      parts.push(b);
    }
    return Buffer.concat(parts);
  };
  const first = segment(0, variants, second.length > 0);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(first.length);
  return Buffer.concat([len, first, second.length ? segment(SEG, second, false) : Buffer.alloc(0)]);
}

export const commitLogRecoveryTarget: FuzzTarget = {
  name: 'commit-log-recovery',
  description: 'CommitLog.recover over damaged segment files: never throws, keeps exactly the good prefix, cuts the files there',
  weight: 3,
  timeBoundMs: 500,
  maxInputLength: 2 + 2 * SEG,
  setup() {
    root = scratchDir('apogee-fuzz-recovery-');
    config = { ...DEFAULT_STORE_CONFIG, storePathRootDir: root, mappedFileSizeCommitLog: SEG };
    fs.mkdirSync(join(root, 'commitlog'), { recursive: true });
  },
  teardown() {
    if (root) fs.rmSync(root, { recursive: true, force: true });
    root = '';
  },
  seeds: () => [store([0, 1, 2, 3, 4, 5], []), store([0, 0, 1, 5, 3, 2, 2, 4, 0, 1, 5, 5, 3, 0, 0, 1, 2, 5, 5, 5, 4, 4, 1, 0, 0, 0, 0, 0, 0, 0], [0, 1, 2]), store([3, 3], [])],
  dictionary: () => int32Tokens(MESSAGE_MAGIC_CODE_V1, MESSAGE_MAGIC_CODE_V2, BLANK_MAGIC_CODE, 0, 91, SEG, SEG - 8),
  run(input: Buffer): Verdict {
    const files = segmentFiles(input);
    writeStore(files);
    const want = naiveScan(files);
    const got: string[] = [];
    const log = new CommitLog(config, silentLogger, () => undefined);
    let cut: boolean;
    try {
      log.load();
      const res = log.recover(0, 0, (_buf, _pos, phy, size) => got.push(`${phy}+${size}`));
      check(res.validEnd === want.validEnd, () => `recovery kept up to ${res.validEnd} (${res.reason ?? 'clean'}), a naive scan up to ${want.validEnd}`);
      check(got.join() === want.records.join(), () => `recovery visited [${got.join()}], a naive scan accepts [${want.records.join()}]`);
      cut = res.reason !== undefined;
      check(log.maxOffset === want.validEnd, () => `maxOffset ${log.maxOffset} after recovery to ${want.validEnd}`);
    } finally {
      log.close();
    }
    files.forEach((f, i) => {
      const path = join(root, 'commitlog', offset2FileName(i * SEG));
      const start = i * SEG;
      if (start > want.validEnd) check(!fs.existsSync(path), () => `segment ${i} past the valid end was kept`);
      else check(fs.statSync(path).size === Math.min(want.validEnd - start, f.length), () => `segment ${i} is ${fs.statSync(path).size} bytes after a cut at ${want.validEnd}`);
    });
    return cut ? 'rejected' : 'accepted';
  },
};
