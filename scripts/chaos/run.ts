// The chaos rounds (issue 10): a SYNC_FLUSH standalone under ali-ons load is SIGKILLed as a
// whole process group at a random moment (sometimes again while it recovers) and restarted on
// the same directory, or SIGSTOPped for a while and continued; after each round the topic is
// read back and every acknowledged message must be there, intact, at the position acknowledged.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminClient } from '../../src/client/index.js';
import { checkFor } from '../../test/helpers/check-for.js';
import { BrokerSupervisor, processState, type BrokerProcess, type ParentForm } from './broker.js';
import { runDiskFullRound, type DiskFullResult } from './disk-full.js';
import { Load, OnsProducer, type Ack } from './load.js';
import { percentile, seededRng, type Rng } from './random.js';
import { scanTopic, tally, type Tally } from './verify.js';

export type Mode = 'kill' | 'stop' | 'diskfull' | 'all';
/** group: kill(-pgid) of a broker this process reaps; zombie: its parent never reaps it; stale-lock: the lock file names a live unrelated pid at restart. */
export type KillForm = 'group' | 'zombie' | 'stale-lock';
const KILL_FORMS: readonly KillForm[] = ['group', 'zombie', 'stale-lock'];

export const TOPIC = 'ChaosTopic';
export const QUEUES = 8;

export interface ChaosOptions {
  rounds: number;
  /** No round starts after this many seconds (a round in progress finishes, bounded). */
  seconds: number;
  seed: number;
  mode: Mode;
  /** Parent of the data directory; a fresh temp dir when absent. */
  dir?: string;
  /** Keep the data directory after a run without findings (one with findings is always kept). */
  keep?: boolean;
  /** The kill (or stop) falls uniformly in this window after the load starts, ms. */
  delayMinMs: number;
  delayMaxMs: number;
  concurrency: number;
  /** Commit-log segment size: small segments put segment rolls under the kills. */
  segmentBytes: number;
  /** How long a SIGSTOP round keeps the broker stopped, ms. */
  stopMs: number;
  /** Share of kill rounds whose restart is killed once more while it recovers. */
  recoveryKillShare: number;
  /** In mode "all", every n-th round is a SIGSTOP round. */
  stopEvery: number;
  /** Mode "all" ends with the disk-full round unless this is set. */
  skipDiskFull?: boolean;
  log: (line: string) => void;
}

export const DEFAULT_OPTIONS: Omit<ChaosOptions, 'log'> = {
  rounds: 100,
  seconds: 1800,
  seed: 1,
  mode: 'kill',
  delayMinMs: 200,
  delayMaxMs: 3000,
  concurrency: 16,
  segmentBytes: 4 * 1024 * 1024,
  stopMs: 4000,
  recoveryKillShare: 0.2,
  stopEvery: 10,
};

export interface RoundResult {
  round: number;
  kind: 'kill' | 'stop';
  form: KillForm | 'stop';
  delayMs: number;
  acked: number;
  failedSends: number;
  lost: number;
  duplicated: number;
  corrupt: number;
  misplaced: number;
  unackedStored: number;
  /** Spawn to ready line of each start in this round, ms. */
  restartMs: number[];
  /** Set when a restart was killed while recovering: ms after its spawn. */
  recoveryKillAtMs?: number;
  /** Bytes recovery cut off the commit log, records it verified and records it re-dispatched (as the restarted broker logged). */
  cutBytes: number;
  recoveryScanned?: number;
  redispatched?: number;
  /** SIGSTOP rounds: SIGCONT to the next acknowledged send, ms. */
  resumeMs?: number;
  /** Sample of what went wrong (lost ids, corrupt positions, notes). */
  details: string[];
}

export interface ChaosSummary {
  seed: number;
  mode: Mode;
  dataDir: string;
  durationMs: number;
  rounds: RoundResult[];
  acked: number;
  lost: number;
  duplicated: number;
  corrupt: number;
  misplaced: number;
  restartMs: number[];
  restartP50: number;
  restartMax: number;
  /** The whole topic read from offset 0 after the last round, against every acknowledgement. */
  final?: Tally;
  /** Exit code of the SIGTERM at the end (0 = clean shutdown). */
  shutdownCode?: number | null;
  diskFull?: DiskFullResult;
  /** Anything that fails the run: acknowledged messages lost or corrupt, a restart that failed, an error. */
  failures: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Creates the topic unless the name server already routes it with QUEUES queues; true when it had to. */
async function ensureTopic(b: BrokerProcess): Promise<boolean> {
  const admin = new AdminClient({ namesrvAddr: b.addresses!.namesrv, clientIP: '127.0.0.1' });
  try {
    const routed = async (): Promise<boolean> => {
      const route = await admin.topicRoute(TOPIC).catch(() => undefined);
      return route?.queueDatas.some((q) => q.writeQueueNums === QUEUES) ?? false;
    };
    if (await routed()) return false;
    await admin.createTopic(b.addresses!.broker, TOPIC, { readQueueNums: QUEUES, writeQueueNums: QUEUES });
    await checkFor(10_000, 50, routed, `route of ${TOPIC}`);
    return true;
  } finally {
    await admin.shutdown();
  }
}

interface RecoveryLog {
  abnormal: boolean;
  records: number;
  redispatched: number;
  truncatedBytes: number;
}

/** The store's recovery summary, from the JSON log line it writes at open ("store recovered" or "store recovery cut ..."). */
function recoveryOf(b: BrokerProcess): RecoveryLog | undefined {
  for (const line of b.stderr().split('\n')) {
    if (!line.includes('"msg":"store recover')) continue;
    try {
      const j = JSON.parse(line) as Partial<RecoveryLog>;
      return { abnormal: j.abnormal === true, records: Number(j.records ?? NaN), redispatched: Number(j.redispatched ?? NaN), truncatedBytes: Number(j.truncatedBytes ?? 0) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function sample(list: readonly string[], n = 5): string[] {
  return list.length <= n ? [...list] : [...list.slice(0, n), `... ${list.length - n} more`];
}

function failuresSummary(l: Load): string[] {
  return [...l.failures].map(([what, n]) => `${n}x ${what}`).slice(0, 3);
}

class ChaosRun {
  readonly sup = new BrokerSupervisor();
  /** Decisions (kill moments, recovery kills) draw from their own stream, so a seed replays them whatever the load did. */
  readonly rng: Rng;
  readonly bodyRng: Rng;
  readonly dataDir: string;
  readonly acks: Ack[] = [];
  readonly results: RoundResult[] = [];
  readonly failures: string[] = [];
  /** Queue offsets read and checked so far: each round reads only what follows. */
  readonly verifiedEnd = new Array<number>(QUEUES).fill(0);
  broker: BrokerProcess | undefined;
  /** How the running broker will be killed (decided when it was started: the zombie form needs its parent). */
  nextForm: KillForm = 'group';
  private killCount = 0;
  private lastReadyMs = 1000;

  constructor(
    readonly o: ChaosOptions,
    parent: string,
  ) {
    this.rng = seededRng(o.seed);
    this.bodyRng = seededRng(o.seed ^ 0x5bd1e995);
    this.dataDir = join(parent, 'data');
  }

  get extraArgs(): string[] {
    return [`--mappedFileSizeCommitLog=${this.o.segmentBytes}`];
  }

  private pickForm(): KillForm {
    return KILL_FORMS[this.killCount++ % KILL_FORMS.length];
  }

  async startBroker(): Promise<BrokerProcess> {
    const form = this.pickForm();
    const parent: ParentForm = form === 'zombie' ? 'zombie-parent' : 'direct';
    const b = await this.sup.start(parent, { dataDir: this.dataDir, extraArgs: this.extraArgs });
    this.nextForm = form;
    this.lastReadyMs = b.readyMs;
    return b;
  }

  /** Spawns a broker and SIGKILLs it a random moment into its start, before or just after ready. */
  private async killWhileRecovering(): Promise<number> {
    const at = this.rng.int(0, Math.max(50, Math.round(this.lastReadyMs)));
    const b = this.sup.spawn('direct', { dataDir: this.dataDir, extraArgs: this.extraArgs });
    await sleep(at);
    await b.killGroup();
    await b.release();
    return at;
  }

  async killRound(round: number): Promise<RoundResult> {
    const old = this.broker!;
    const form = this.nextForm;
    const r = this.newResult(round, 'kill', form);
    const producer = await OnsProducer.open(old.addresses!.namesrv, 'CHAOS_PRODUCER');
    const load = new Load(producer, { topic: TOPIC, round, concurrency: this.o.concurrency, maxMessages: 200_000, rng: this.bodyRng }).start();
    // The chaos moment itself: a random point of the load, not a wait for some condition.
    await sleep(r.delayMs);
    await old.killGroup();
    await load.stop();
    await producer.close();
    r.acked = load.acks.length;
    r.failedSends = load.failed + load.notOk;
    if (form === 'zombie' && !old.isZombie()) r.details.push(`broker ${old.pid} was not left a zombie (state ${processState(old.pid!) ?? 'gone'})`);
    let unrelated: ChildProcess | undefined;
    if (form === 'stale-lock') {
      // The lock file of the report's era held a bare pid; this one is alive and is no broker.
      unrelated = spawn('sleep', ['120'], { stdio: 'ignore' });
      writeFileSync(join(this.dataDir, 'lock'), String(unrelated.pid));
    }
    try {
      if (this.rng.next() < this.o.recoveryKillShare) r.recoveryKillAtMs = await this.killWhileRecovering();
      this.broker = await this.startBroker();
    } catch (err) {
      r.details.push(`restart failed: ${(err as Error).message.slice(0, 2000)}`);
      this.failures.push(`round ${round} (${form}): restart on the same directory failed`);
      this.results.push(r);
      throw err;
    } finally {
      // Only now is the zombie let go: the restart above ran while it still existed.
      await old.release();
      unrelated?.kill('SIGKILL');
    }
    r.restartMs.push(this.broker.readyMs);
    const rec = recoveryOf(this.broker);
    if (rec) {
      r.cutBytes = rec.truncatedBytes;
      r.recoveryScanned = rec.records;
      r.redispatched = rec.redispatched;
      if (!rec.abnormal) r.details.push('the restarted store did not see the abort marker: it took a SIGKILL for a clean shutdown');
    }
    if (await ensureTopic(this.broker)) r.details.push(`topic ${TOPIC} was not routed after the restart: created again`);
    await this.verify(r, load.acks);
    return r;
  }

  async stopRound(round: number): Promise<RoundResult> {
    const b = this.broker!;
    const r = this.newResult(round, 'stop', 'stop');
    const producer = await OnsProducer.open(b.addresses!.namesrv, 'CHAOS_PRODUCER');
    const load = new Load(producer, { topic: TOPIC, round, concurrency: this.o.concurrency, maxMessages: 200_000, rng: this.bodyRng }).start();
    try {
      await sleep(r.delayMs);
      b.signalGroup('SIGSTOP');
      await checkFor(5_000, 5, () => processState(b.pid!) === 'T', 'the broker to stop');
      // The hang itself: how long the broker stays stopped is the point of the round.
      await sleep(this.o.stopMs);
      const before = load.acks.length;
      const next = load.nextAck();
      b.signalGroup('SIGCONT');
      const contAt = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const served = await Promise.race([next.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 30_000)))]);
      clearTimeout(timer);
      if (!served || load.acks.length <= before) {
        r.details.push('no send acknowledged within 30 s of SIGCONT');
        this.failures.push(`round ${round} (stop): the broker did not serve again after SIGCONT`);
      } else {
        r.resumeMs = Date.now() - contAt;
      }
    } finally {
      b.signalGroup('SIGCONT');
      await load.stop();
      await producer.close();
    }
    r.acked = load.acks.length;
    r.failedSends = load.failed + load.notOk;
    if (r.failedSends) r.details.push(...failuresSummary(load));
    await this.verify(r, load.acks);
    return r;
  }

  private newResult(round: number, kind: 'kill' | 'stop', form: KillForm | 'stop'): RoundResult {
    return {
      round,
      kind,
      form,
      delayMs: this.rng.int(this.o.delayMinMs, this.o.delayMaxMs),
      acked: 0,
      failedSends: 0,
      lost: 0,
      duplicated: 0,
      corrupt: 0,
      misplaced: 0,
      unackedStored: 0,
      restartMs: [],
      cutBytes: 0,
      details: [],
    };
  }

  /** Reads what this round added and holds it against the round's acknowledgements. */
  private async verify(r: RoundResult, acks: Ack[]): Promise<void> {
    const scans = await scanTopic(this.broker!.addresses!.broker, TOPIC, QUEUES, this.verifiedEnd, Date.now() + 120_000);
    for (const s of scans) this.verifiedEnd[s.queueId] = Math.max(this.verifiedEnd[s.queueId], s.end);
    const t = tally(acks, scans);
    this.acks.push(...acks);
    r.lost = t.lost.length;
    r.duplicated = t.duplicated;
    r.corrupt = t.corrupt.length;
    r.misplaced = t.misplaced.length;
    r.unackedStored = t.unackedStored;
    if (t.lost.length) r.details.push(`lost: ${sample(t.lost).join(' ')}`);
    if (t.corrupt.length) r.details.push(`corrupt: ${sample(t.corrupt).join('; ')}`);
    if (t.misplaced.length) r.details.push(`misplaced: ${sample(t.misplaced).join('; ')}`);
    if (t.lost.length || t.corrupt.length || t.misplaced.length) {
      this.failures.push(`round ${r.round} (${r.form}, seed ${this.o.seed}): ${t.lost.length} lost, ${t.corrupt.length} corrupt, ${t.misplaced.length} misplaced`);
    }
  }

  async finalCheck(): Promise<Tally> {
    const scans = await scanTopic(this.broker!.addresses!.broker, TOPIC, QUEUES, [], Date.now() + 300_000);
    const t = tally(this.acks, scans);
    if (t.lost.length || t.corrupt.length || t.misplaced.length) {
      this.failures.push(
        `final read-back: ${t.lost.length} lost (${sample(t.lost).join(' ')}), ${t.corrupt.length} corrupt (${sample(t.corrupt).join('; ')}), ${t.misplaced.length} misplaced`,
      );
    }
    return t;
  }
}

export function formatRound(r: RoundResult, totalAcked: number): string {
  const restart = r.restartMs.length ? ` restart=${r.restartMs.map((x) => `${x}ms`).join('+')}` : '';
  const rk = r.recoveryKillAtMs !== undefined ? ` (a restart killed ${r.recoveryKillAtMs}ms in)` : '';
  const resume = r.resumeMs !== undefined ? ` resumed=${r.resumeMs}ms` : '';
  const cut = r.recoveryScanned !== undefined ? ` recovery: verified=${r.recoveryScanned} redispatched=${r.redispatched} cut=${r.cutBytes}B` : '';
  return (
    `round ${r.round} ${r.kind}/${r.form} at=${r.delayMs}ms acked=${r.acked} (total ${totalAcked}) failed-sends=${r.failedSends} ` +
    `lost=${r.lost} dup=${r.duplicated} corrupt=${r.corrupt} misplaced=${r.misplaced} unacked-stored=${r.unackedStored}${restart}${rk}${resume}${cut}` +
    (r.details.length ? `\n    ${r.details.join('\n    ')}` : '')
  );
}

function kindOf(o: ChaosOptions, round: number): 'kill' | 'stop' {
  if (o.mode === 'stop') return 'stop';
  if (o.mode === 'all' && round % o.stopEvery === 0) return 'stop';
  return 'kill';
}

/** Runs the rounds; never throws for a finding (it lands in `failures`), always cleans up what it started. */
export async function runChaos(o: ChaosOptions): Promise<ChaosSummary> {
  const started = Date.now();
  const deadline = started + o.seconds * 1000;
  const parent = mkdtempSync(join(o.dir ?? tmpdir(), 'apogee-chaos-'));
  const run = new ChaosRun(o, parent);
  const onExit = (): void => run.sup.killAllSync();
  process.once('exit', onExit);
  const summary: ChaosSummary = {
    seed: o.seed,
    mode: o.mode,
    dataDir: run.dataDir,
    durationMs: 0,
    rounds: run.results,
    acked: 0,
    lost: 0,
    duplicated: 0,
    corrupt: 0,
    misplaced: 0,
    restartMs: [],
    restartP50: NaN,
    restartMax: NaN,
    failures: run.failures,
  };
  try {
    if (o.mode !== 'diskfull') {
      run.broker = await run.startBroker();
      o.log(`started ${run.dataDir} (ready in ${run.broker.readyMs} ms, seed ${o.seed})`);
      await ensureTopic(run.broker);
      let acked = 0;
      for (let round = 1; round <= o.rounds && Date.now() < deadline; round++) {
        const r = kindOf(o, round) === 'stop' ? await run.stopRound(round) : await run.killRound(round);
        run.results.push(r);
        acked += r.acked;
        o.log(formatRound(r, acked));
      }
      if (run.broker.form !== 'direct') {
        // Only a child of ours tells its exit code: the clean shutdown at the end needs one.
        await run.broker.release();
        run.nextForm = 'group';
        run.broker = await run.sup.start('direct', { dataDir: run.dataDir, extraArgs: run.extraArgs });
      }
      summary.final = await run.finalCheck();
      o.log(
        `final read-back: ${summary.final.acked} acknowledged, ${summary.final.lost.length} lost, ${summary.final.duplicated} duplicated, ` +
          `${summary.final.corrupt.length} corrupt, ${summary.final.misplaced.length} misplaced, ${summary.final.unackedStored} stored unacknowledged`,
      );
      summary.shutdownCode = await run.broker.terminate();
      if (summary.shutdownCode !== 0) run.failures.push(`clean shutdown at the end exited with ${summary.shutdownCode}`);
    }
    if (o.mode === 'diskfull' || (o.mode === 'all' && !o.skipDiskFull && Date.now() < deadline)) {
      summary.diskFull = await runDiskFullRound(run.sup, { parent, seed: o.seed, concurrency: o.concurrency, log: o.log });
      run.failures.push(...summary.diskFull.failures);
    }
  } catch (err) {
    run.failures.push(`run stopped: ${(err as Error).stack ?? String(err)}`);
  } finally {
    run.sup.killAllSync();
    process.off('exit', onExit);
    summary.durationMs = Date.now() - started;
    for (const r of run.results) {
      summary.acked += r.acked;
      summary.lost += r.lost;
      summary.duplicated += r.duplicated;
      summary.corrupt += r.corrupt;
      summary.misplaced += r.misplaced;
      summary.restartMs.push(...r.restartMs);
    }
    summary.restartP50 = percentile(summary.restartMs, 50);
    summary.restartMax = summary.restartMs.length ? Math.max(...summary.restartMs) : NaN;
    if (run.failures.length === 0 && !o.keep) rmSync(parent, { recursive: true, force: true });
  }
  return summary;
}
