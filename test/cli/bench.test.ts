import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runApogee } from '../helpers/spawn-apogee.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';

const LINE = /^\[bench (producer|consumer)\] t=[\d.]+s tps=\d+ avgRT=([\d.]+)ms maxRT=([\d.]+)ms p50=([\d.]+)ms p99=([\d.]+)ms p999=([\d.]+)ms failed=(\d+)$/;
const SUMMARY = /^\[bench (producer|consumer)\] summary: ok=(\d+) failed=(\d+) elapsed=[\d.]+s tps=(\d+) avgRT=([\d.]+)ms maxRT=([\d.]+)ms p50=([\d.]+)ms p99=([\d.]+)ms p999=([\d.]+)ms$/;

function checkOutput(stdout: string, ok: number): void {
  const lines = stdout.trimEnd().split('\n');
  const summary = SUMMARY.exec(lines[lines.length - 1]);
  assert.ok(summary, `summary line: ${lines[lines.length - 1]}`);
  assert.equal(Number(summary[2]), ok);
  assert.equal(Number(summary[3]), 0);
  assert.ok(Number(summary[4]) > 0, 'tps');
  const [avg, max, p50, p99, p999] = summary.slice(5).map(Number);
  assert.ok(avg > 0 && p50 <= p99 && p99 <= p999 && p999 <= max + 0.001, summary[0]);
  const intervals = lines.slice(0, -1).map((l) => LINE.exec(l));
  assert.ok(intervals.length >= 1 && intervals.every(Boolean), stdout);
  let n = 0;
  for (const m of intervals) {
    const [iavg, imax, i50, i99] = m!.slice(2, 6).map(Number);
    assert.ok(i50 <= i99 && i99 <= imax + 0.001 && iavg <= imax + 0.001, m![0]);
    n += 1;
  }
  assert.ok(n > 0);
}

describe('apogee bench', () => {
  let s: Standalone;
  before(async () => {
    s = await startStandalone();
  });
  after(() => s.close());

  test('bench cli - producer --count sends exactly that many and prints interval and summary lines', async () => {
    const r = await runApogee(['bench', 'producer', '-n', s.namesrvAddr, '-t', 'BenchTopic', '-s', '512', '-w', '16', '--count', '2000', '--interval', '0.2', '--headers', 'binary'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    checkOutput(r.stdout, 2000);
    let stored = 0;
    for (const q of s.controller.store.getQueueIds('BenchTopic')) stored += s.controller.store.getMaxOffsetInQueue('BenchTopic', q);
    assert.equal(stored, 2000);
  });

  test('bench cli - consumer --count reads the backlog and stops by itself', async () => {
    const r = await runApogee(['bench', 'consumer', '-n', s.namesrvAddr, '-t', 'BenchTopic', '-g', 'bench_cg', '--count', '2000', '--interval', '0.2', '--duration', '30'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    checkOutput(r.stdout, 2000);
  });

  test('bench cli - --duration stops a rate-limited producer; bad flags exit 2', async () => {
    const t0 = Date.now();
    const r = await runApogee(['bench', 'producer', '-n', s.namesrvAddr, '-t', 'BenchTopic', '--rate', '500', '--duration', '1', '--interval', '0.5'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const summary = SUMMARY.exec(r.stdout.trimEnd().split('\n').pop()!);
    assert.ok(summary, r.stdout);
    const ok = Number(summary[2]);
    assert.ok(ok >= 300 && ok <= 560, `about 500 msgs in 1 s at --rate 500, got ${ok}`);
    assert.ok(Date.now() - t0 < 20_000);
    const bad = await runApogee(['bench', 'producer', '-n', s.namesrvAddr, '-w', '0']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-w: expected an integer >= 1, got "0"/);
    const badHeaders = await runApogee(['bench', 'producer', '-n', s.namesrvAddr, '--headers', 'xml']);
    assert.equal(badHeaders.code, 2);
    assert.match(badHeaders.stderr, /xml/);
  });
});
