// Issue 17: the index hashes "topic#key" without building the string, and walks KEYS's
// space-separated tokens in place. Held to what it replaced: IndexFile.putKey of `${topic}#${k}` for
// UNIQ_KEY, then every non-empty token of keys.split(' '); the files' bytes must be the same.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { IndexFile, indexKeyHash, topicKeyHash } from '../../src/store/index-file.js';
import { IndexService } from '../../src/store/index-service.js';
import { tempDir } from '../helpers/temp-dir.js';

const SLOTS = 64;
const ENTRIES = 400;

interface Rec {
  topic: string;
  keys: string | undefined;
  uniq: string | undefined;
}

function modelBytes(dir: string, recs: Rec[]): Buffer {
  const f = new IndexFile(join(dir, 'model'), SLOTS, ENTRIES, true);
  recs.forEach((r, i) => {
    const phy = 1000 + i * 100;
    const ts = 1_700_000_000_000 + i * 700;
    if (r.uniq) f.putKey(`${r.topic}#${r.uniq}`, phy, ts);
    if (r.keys) for (const k of r.keys.split(' ')) if (k.length > 0) f.putKey(`${r.topic}#${k}`, phy, ts);
  });
  f.writeDirty();
  f.close();
  return fs.readFileSync(join(dir, 'model'));
}

function serviceBytes(root: string, recs: Rec[]): Buffer {
  const s = new IndexService(root, SLOTS, ENTRIES, () => 1_700_000_000_000);
  recs.forEach((r, i) => s.buildIndex(r.topic, r.keys, r.uniq, 1000 + i * 100, 1_700_000_000_000 + i * 700));
  s.close();
  const [name] = fs.readdirSync(join(root, 'index'));
  return fs.readFileSync(join(root, 'index', name));
}

const text = (max: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom('a', 'Z', '9', '#', ' ', '%', 'é', '\u{1F600}'), maxLength: max });

void describe('index keys - issue 17: hashing in place', () => {
  test('index keys - topicKeyHash equals indexKeyHash of the joined string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 20 }), fc.nat(), fc.nat(), (topic, key, a, b) => {
        const start = a % (key.length + 1);
        const end = start + (b % (key.length - start + 1));
        assert.equal(topicKeyHash(topic, key, start, end), indexKeyHash(`${topic}#${key.slice(start, end)}`));
      }),
      { numRuns: 3000 },
    );
    // A hash of Integer.MIN_VALUE maps to 0, as Java's IndexService has it: "polygenelubricants" hashes to it.
    assert.equal(indexKeyHash('polygenelubricants'), 0);
  });

  test('index keys - property: the index file holds the bytes the per-key strings gave', () => {
    using dir = tempDir();
    let run = 0;
    const rec = fc.record({ topic: fc.constantFrom('T', 'TopicA', '%RETRY%g'), keys: fc.option(text(14), { nil: undefined }), uniq: fc.option(text(8), { nil: undefined }) });
    fc.assert(
      // The first record has a unique key, as nearly every message does: the service's file exists.
      fc.property(rec, fc.array(rec, { maxLength: 25 }), (first, rest) => {
        const recs = [{ ...first, uniq: first.uniq || 'U1' }, ...rest];
        const root = join(dir.path, String(run++));
        fs.mkdirSync(root);
        const got = serviceBytes(root, recs);
        assert.ok(got.equals(modelBytes(root, recs)));
      }),
      { numRuns: 150 },
    );
  });
});
