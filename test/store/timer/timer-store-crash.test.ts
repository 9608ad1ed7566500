// SIGKILL a child that is adding, cancelling and confirming timers; after reopening,
// every acknowledged timer is still there (and due), no cancelled or confirmed one comes
// back, and a torn tail is cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TimerStore } from '../../../src/store/timer/index.js';
import { checkFor } from '../../helpers/check-for.js';
import { tempDir } from '../../helpers/temp-dir.js';

const fixture = fileURLToPath(new URL('./fixtures/add-timers.ts', import.meta.url));
const BASE = 1_700_000_000_000;
/** The fixture's deliver time for timer i. */
const deliverAt = (i: number): number => BASE + i * 20 + ((i * 7919) % 8_000);

interface Ack {
  added: number[];
  cancelled: number[];
  committed: string[];
}

test('timer store crash - acknowledged timers survive SIGKILL, cancelled and confirmed ones do not return', async () => {
  for (const killAfter of [3, 40]) {
    using dir = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir.path, String(BASE), '100000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acks: Ack[] = [];
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = JSON.parse(buf.slice(0, nl)) as Ack & { done?: boolean };
        buf = buf.slice(nl + 1);
        if (!line.done) acks.push(line);
      }
    });
    const exited = new Promise((r) => child.once('exit', r));
    await checkFor(20_000, 5, () => acks.length >= killAfter, `${killAfter} acknowledged batches`);
    child.kill('SIGKILL');
    await exited;

    const added = new Set(acks.flatMap((a) => a.added.map((i) => `k${i}`)));
    const cancelled = new Set(acks.flatMap((a) => a.cancelled.map((i) => `k${i}`)));
    const committed = new Set(acks.flatMap((a) => a.committed));
    const store = TimerStore.open(dir.path, { precisionMs: 100, slotsWindow: 20, flushIntervalMs: 0, now: () => BASE });
    const seen = new Map<string, number>();
    // Timers of the batch cut short may be there too, so walk past the last acknowledged time.
    const last = Math.max(...[...added].map((k) => deliverAt(Number(k.slice(1)))));
    for (let now = BASE; now <= last + 1_000; now += 1_000) {
      for (const t of store.pollDue(now, 1_000_000)) {
        assert.ok(t.deliverAtMs <= now, `${t.key} handed out early`);
        seen.set(t.key, (seen.get(t.key) ?? 0) + 1);
      }
      store.commit();
    }
    // The batch after the last acknowledged one may have confirmed hand-outs up to its clock.
    const unackedClock = BASE + acks.length * 50 * 10;
    let pending = 0;
    for (const k of added) {
      const i = Number(k.slice(1));
      if (cancelled.has(k) || committed.has(k)) assert.ok(!seen.has(k), `${k} came back`);
      else if (deliverAt(i) <= unackedClock) assert.ok((seen.get(k) ?? 0) <= 1, `${k} repeated`);
      else {
        assert.equal(seen.get(k), 1, `${k} lost or repeated`);
        pending++;
      }
    }
    assert.ok(pending > 100, `only ${pending} acknowledged timers were still pending at the kill`);
    await store.close();
  }
});
