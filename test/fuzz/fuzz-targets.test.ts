// A short run of every fuzz target (fuzz/): a few seconds each, from a seed printed in the test's
// diagnostics. A failure names the seed, the input's index and bytes, and the command that replays
// it; the long run is `npm run fuzz -- --iterations N` (see docs/RELIABILITY.md).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runTarget, type FuzzStats } from '../../fuzz/engine.js';
import { TARGETS } from '../../fuzz/targets/index.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 0x7fffffff);
/** Per target: at most this many inputs, and at most this long (the network target gets more time, it is slower). */
const MAX_INPUTS = 200_000;
const BUDGET_MS = Number(process.env.FUZZ_MS ?? 2500);
const SLOW_BUDGET_MS = 2 * BUDGET_MS;
/** A target that gets through fewer inputs than this in its budget has become too slow to fuzz. */
const MIN_INPUTS = 300;

function explain(s: FuzzStats): string {
  const lines = [`fuzz target ${s.target}: ${s.crashes} crashes, ${s.hangs} hangs in ${s.iterations} inputs (FUZZ_SEED=${s.seed})`];
  for (const f of s.findings) {
    const dir = join('.scratch', 'fuzz-crashes');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${s.target}-${s.seed}-${f.index}-${f.kind}.bin`);
    writeFileSync(file, f.input);
    lines.push(
      `  ${f.kind} at input #${f.index}: ${f.summary}`,
      `    input (${f.input.length} bytes): ${f.input.subarray(0, 96).toString('hex')}${f.input.length > 96 ? '...' : ''}`,
      `    replay: npm run fuzz -- --target ${s.target} --replay ${file}`,
      `    or the whole stream: npm run fuzz -- --target ${s.target} --seed ${s.seed} --iterations ${f.index + 1}`,
      ...f.detail.split('\n').slice(1, 6).map((l) => `      ${l.trim()}`),
    );
  }
  return lines.join('\n');
}

describe('fuzz targets', () => {
  for (const target of TARGETS) {
    test(`fuzz - ${target.name}: ${target.description}`, { timeout: 120_000 }, async (t) => {
      t.diagnostic(`FUZZ_SEED=${SEED}`);
      await target.setup?.();
      let s: FuzzStats;
      try {
        s = await runTarget(target, { iterations: MAX_INPUTS, seed: SEED, timeBudgetMs: target.timeBoundMs > 1000 ? SLOW_BUDGET_MS : BUDGET_MS, maxFindings: 5 });
      } finally {
        await target.teardown?.();
      }
      t.diagnostic(`${s.iterations} inputs: ${s.accepted} accepted, ${s.rejected} rejected, slowest ${s.slowestMs.toFixed(1)} ms`);
      assert.equal(s.crashes + s.hangs, 0, explain(s));
      assert.ok(s.iterations >= MIN_INPUTS, `only ${s.iterations} inputs in the budget (FUZZ_SEED=${SEED})`);
      // Both ways through the decoder are exercised, or the seeds and mutations have gone stale.
      assert.ok(s.accepted > 0, `no input was accepted (FUZZ_SEED=${SEED})`);
      if (target.name !== 'message-properties') assert.ok(s.rejected > 0, `no input was rejected (FUZZ_SEED=${SEED})`);
    });
  }
});
