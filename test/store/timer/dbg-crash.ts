import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { TimerStore } from '../../../src/store/timer/index.js';
const BASE = 1_700_000_000_000;
const deliverAt = (i: number): number => BASE + i * 20 + ((i * 7919) % 8_000);
for (let run = 0; run < 40; run++) {
  const dir = mkdtempSync('/tmp/tcrash-');
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/store/timer/fixtures/add-timers.ts', dir, String(BASE), '100000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acks: any[] = []; let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => { buf += c; for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) { acks.push(JSON.parse(buf.slice(0, nl))); buf = buf.slice(nl + 1); } });
  const exited = new Promise((r) => child.once('exit', r));
  while (acks.length < 3) await new Promise((r) => setTimeout(r, 2));
  child.kill('SIGKILL'); await exited;
  const added = acks.flatMap((a) => a.added.map((i: number) => `k${i}`));
  const cancelled = new Set(acks.flatMap((a) => a.cancelled.map((i: number) => `k${i}`)));
  const committed = new Set(acks.flatMap((a) => a.committed));
  const files = readdirSync(dir + '/timerlog').map((f) => [f, statSync(dir + '/timerlog/' + f).size]);
  const store = TimerStore.open(dir, { precisionMs: 100, slotsWindow: 20, flushIntervalMs: 0, now: () => BASE });
  const st0 = store.stats();
  const seen = new Map<string, number>();
  for (let now = BASE; now <= BASE + 4 * 3_600_000; now += 1000) { for (const t of store.pollDue(now, 1e6)) seen.set(t.key, (seen.get(t.key) ?? 0) + 1); store.commit(); }
  const unacked = BASE + acks.length * 500;
  const lost = added.filter((k) => !cancelled.has(k) && !committed.has(k) && deliverAt(Number(k.slice(1))) > unacked && seen.get(k) !== 1);
  await store.close();
  if (lost.length) { console.log('run', run, 'dir', dir, 'acks', acks.length, 'lost', lost.length, lost.slice(0, 10), files, st0, lost.slice(0,5).map((k) => deliverAt(Number(k.slice(1))) - BASE)); break; }
}
