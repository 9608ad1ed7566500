// npm run chaos -- [--rounds N] [--seconds T] [--seed S] [--mode kill|stop|diskfull|all] [--dir D]
//   [--keep] [--concurrency C] [--delay MIN-MAX] [--segment BYTES] [--stop-ms MS] [--json FILE]
// Kills, stops and fills the disk under a real SYNC_FLUSH standalone driven by ali-ons and counts
// acknowledged messages lost, duplicated and corrupt (issue 10). Exits 1 if anything
// acknowledged was lost or corrupt, or a restart failed. See docs/RELIABILITY.md.
import { writeFileSync } from 'node:fs';
import { DEFAULT_OPTIONS, runChaos, type ChaosOptions, type Mode } from './chaos/run.js';

function parseArgs(argv: string[]): { o: ChaosOptions; json?: string } {
  const o: ChaosOptions = { ...DEFAULT_OPTIONS, seed: Date.now() % 1_000_000, log: (l) => console.log(l) };
  let json: string | undefined;
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--rounds': o.rounds = num(flag, value()); break;
      case '--seconds': o.seconds = num(flag, value()); break;
      case '--seed': o.seed = num(flag, value()); break;
      case '--concurrency': o.concurrency = Math.max(1, num(flag, value())); break;
      case '--segment': o.segmentBytes = num(flag, value()); break;
      case '--stop-ms': o.stopMs = num(flag, value()); break;
      case '--stop-every': o.stopEvery = Math.max(1, num(flag, value())); break;
      case '--recovery-kills': o.recoveryKillShare = num(flag, value()); break;
      case '--dir': o.dir = value(); break;
      case '--keep': o.keep = true; break;
      case '--json': json = value(); break;
      case '--delay': {
        const m = /^(\d+)-(\d+)$/.exec(value() ?? '');
        if (!m || Number(m[1]) > Number(m[2])) throw new Error('--delay needs MIN-MAX in ms, e.g. 200-3000');
        o.delayMinMs = Number(m[1]);
        o.delayMaxMs = Number(m[2]);
        break;
      }
      case '--mode': {
        const m = value();
        if (m !== 'kill' && m !== 'stop' && m !== 'diskfull' && m !== 'all') throw new Error(`--mode is kill, stop, diskfull or all, got ${m}`);
        o.mode = m as Mode;
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
  console.error(`chaos: ${(err as Error).message}`);
  process.exit(2);
}
const { o, json } = parsed;
// An interrupted run still ends its brokers and unmounts: runChaos's own finally does it once
// the current round's awaits return, and its exit hook kills the groups if we exit sooner.
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    o.rounds = 0;
    o.seconds = 0;
    console.log(`chaos: ${sig}: finishing the current round, then cleaning up (again to exit now)`);
  });
}

console.log(`chaos: mode ${o.mode}, up to ${o.rounds} rounds and ${o.seconds} s, seed ${o.seed}, ${o.concurrency} senders, kill window ${o.delayMinMs}-${o.delayMaxMs} ms`);
const s = await runChaos(o);
const kills = s.rounds.filter((r) => r.kind === 'kill').length;
const stops = s.rounds.filter((r) => r.kind === 'stop').length;
console.log('');
console.log(
  `chaos: ${s.rounds.length} rounds (${kills} SIGKILL, ${stops} SIGSTOP) in ${(s.durationMs / 1000).toFixed(0)} s, seed ${s.seed}: ` +
    `${s.acked} acknowledged, ${s.lost} lost, ${s.duplicated} duplicated, ${s.corrupt} corrupt, ${s.misplaced} misplaced; ` +
    `restart (spawn to ready) p50 ${s.restartP50} ms, max ${s.restartMax} ms over ${s.restartMs.length} restarts`,
);
if (s.diskFull) {
  const d = s.diskFull;
  console.log(
    d.skipped
      ? `chaos: disk-full round skipped: ${d.skipped}`
      : `chaos: disk-full round: ${d.ackedBeforeFull} acknowledged until full; refusal ${d.refusal ? `code ${d.refusal.code} "${d.refusal.remark}"` : 'none'}; ` +
          `${d.restartedWhileFull ? 'restarted on the full disk' : 'did not restart on the full disk'}; ` +
          `${d.resumed ? `resumed ${d.resumeMs} ms after freeing space` : 'did not resume'}${d.notes.length ? `; ${d.notes.join('; ')}` : ''}`,
  );
}
if (json) writeFileSync(json, JSON.stringify(s, null, 2));
if (s.failures.length) {
  console.log(`chaos: FAILED (data kept in ${s.dataDir}):\n  ${s.failures.join('\n  ')}`);
  process.exit(1);
}
console.log('chaos: no acknowledged message lost or corrupt');
