import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile, JsonConfigFile } from '../../src/store/index.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('atomic metadata files', () => {
  test('atomic file - replaces content whole and leaves no temp files', async () => {
    using dir = tempDir();
    const p = join(dir.path, 'config', 'topics.json');
    await atomicWriteFile(p, '{"a":1}');
    await atomicWriteFile(p, Buffer.from('{"a":2}'));
    assert.equal(fs.readFileSync(p, 'utf8'), '{"a":2}');
    assert.deepEqual(fs.readdirSync(join(dir.path, 'config')), ['topics.json']);
  });

  test('atomic file - JsonConfigFile loads defaults, collapses updates, survives reload', async () => {
    using dir = tempDir();
    const p = join(dir.path, 'consumerOffset.json');
    const f = JsonConfigFile.load(p, () => ({ offsetTable: {} as Record<string, Record<string, number>> }));
    assert.deepEqual(f.get(), { offsetTable: {} });
    for (let i = 0; i < 50; i++) f.update((v) => void (v.offsetTable['T@G'] = { 0: i }));
    await f.flush();
    const again = JsonConfigFile.load(p, () => ({ offsetTable: {} }));
    assert.deepEqual(again.get(), { offsetTable: { 'T@G': { 0: 49 } } });
    fs.writeFileSync(p, '{broken');
    assert.throws(() => JsonConfigFile.load(p, () => ({})), /consumerOffset\.json is not valid JSON/);
  });
});
