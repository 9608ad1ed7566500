// npm run ha-chaos -- [--kills N] [--seconds T] [--seed S] [--concurrency C] [--size BYTES]
//   [--rate MSG_PER_S] [--delay MIN-MAX] [--client-poll MS] [--step-timeout MS] [--keep] [--json FILE]
// SIGKILLs the master of a controller-mode group of three (real etcd, real ali-ons load) N times
// and reports failover time, time to the first acknowledgement after each kill, acknowledged
// messages lost (must be 0) and duplicates the consumer saw (issue 12). Exits 1 on any loss or
// failed round, 2 on bad options. See docs/HA.md.
import { writeFileSync } from 'node:fs';
import { DEFAULT_OPTIONS, runHaChaos, type HaChaosOptions } from './ha-chaos/run.js';

let stop = false;

function parseArgs(argv: string[]): { o: HaChaosOptions; json?: string } {
  const o: HaChaosOptions = { ...DEFAULT_OPTIONS, seed: Date.now() % 1_000_000, log: (l) => console.log(l), stopRequested: () => stop };
  let json: string | undefined;
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--kills': o.kills = num(flag, value()); break;
      case '--seconds': o.seconds = num(flag, value()); break;
      case '--seed': o.seed = num(flag, value()); break;
      case '--concurrency': o.concurrency = Math.max(1, num(flag, value())); break;
      case '--size': o.size = Math.max(16, num(flag, value())); break;
      case '--rate': o.rate = num(flag, value()); break;
      case '--client-poll': o.clientPollMs = Math.max(10, num(flag, value())); break;
      case '--step-timeout': o.stepTimeoutMs = Math.max(1000, num(flag, value())); break;
      case '--keep': o.keep = true; break;
      case '--json': json = value(); break;
      case '--delay': {
        const m = /^(\d+)-(\d+)$/.exec(value() ?? '');
        if (!m || Number(m[1]) > Number(m[2])) throw new Error('--delay needs MIN-MAX in ms, e.g. 2000-6000');
        o.delayMinMs = Number(m[1]);
        o.delayMaxMs = Number(m[2]);
        break;
      }
      default:
        throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return { o, json };
}

let parsed: ReturnType<typeof parseArgs>;
try {
  parsed = parseArgs(process.argv.slice(2));
} catch (err) {
  console.error(`ha-chaos: ${(err as Error).message}`);
  process.exit(2);
}
const { o, json } = parsed;
// An interrupt ends the rounds after the current one; the run then reads back and cleans up.
// A second one exits at once: the exit hook still kills every broker started, by pid.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stop) process.exit(130);
    stop = true;
    console.log(`ha-chaos: ${sig}: finishing the current round, then reading back and cleaning up (again to exit now)`);
  });
}

const f = (n: number): string => (Number.isFinite(n) ? `${Math.round(n)}` : '-');
console.log(
  `ha-chaos: up to ${o.kills} kills and ${o.seconds} s, seed ${o.seed}, ${o.concurrency} senders` +
    `${o.rate > 0 ? ` at ${o.rate} msg/s` : ''}, ${o.size}-byte bodies, kill after ${o.delayMinMs}-${o.delayMaxMs} ms, ` +
    `producer route refresh ${o.clientPollMs} ms`,
);
const s = await runHaChaos(o);
const kills = s.rounds.length;
console.log('');
console.log(
  `ha-chaos: ${kills} master kills in ${(s.durationMs / 1000).toFixed(0)} s, seed ${s.seed}: ` +
    `${s.acknowledged} acknowledged (${s.issued} messages, ${s.attempts} attempts, ${s.abandoned} given up at the end), ` +
    (s.readBack ? `${s.lost} lost, ` : 'NOT READ BACK, ') +
    `${s.duplicatesSeen} duplicates seen by the consumer (${s.storedDuplicates} stored twice by a re-send, ` +
    `${s.redeliveries} redelivered), ${s.unackedRead} read that were never acknowledged; read back in ${(s.readMs / 1000).toFixed(0)} s`,
);
console.log(
  `ha-chaos: failover (kill → a survivor is master) p50 ${f(s.failoverP50)} ms, max ${f(s.failoverMax)} ms, ${s.over5s} of ${kills} at 5 s or more; ` +
    `first ack after kill p50 ${f(s.firstAckP50)} ms, max ${f(s.firstAckMax)} ms`,
);
const stepDowns = Object.entries(s.stepDowns);
console.log(
  `ha-chaos: final epoch ${s.finalEpoch}, ${s.promotions} promotions logged (${1 + kills} without flapping); ` +
    (stepDowns.length ? `step-downs of live masters: ${stepDowns.map(([why, n]) => `${n}× "${why}"`).join(', ')}` : 'no live master stepped down'),
);
const notOk = Object.entries(s.notOk);
const failed = Object.entries(s.failed).sort((a, b) => b[1] - a[1]).slice(0, 5);
if (notOk.length || failed.length) {
  console.log(`ha-chaos: attempts not acknowledged: ${[...notOk, ...failed].map(([w, n]) => `${n}× ${w}`).join('; ')}`);
}
if (json) writeFileSync(json, JSON.stringify(s, null, 2));
if (s.failures.length) {
  console.log(`ha-chaos: FAILED${o.keep ? ` (data kept in ${s.dataDir})` : ''}:\n  ${s.failures.join('\n  ')}`);
  process.exit(1);
}
console.log('ha-chaos: no acknowledged message lost');
process.exit(0);
