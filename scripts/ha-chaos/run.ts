// The HA chaos run (issue 12): a real etcd, a name server and three controller-mode members under
// continuous ali-ons load. Each round waits a random moment, SIGKILLs whoever is master, times
// the election of a survivor and the first acknowledgement a survivor stored, restarts the killed
// member on its directory (it rejoins as a slave) and waits until all three are in the stored
// in-sync set again, so every kill hits a fully replicated group. At the end a new consumer
// group reads the topic: every acknowledged message must be there.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { startNamesrv } from '../../src/namesrv/index.js';
import { OnsHarness, type OnsMessage } from '../../test/compat/helpers/ali-ons.js';
import { controllerArgs } from '../../test/helpers/broker-group.js';
import { checkFor } from '../../test/helpers/check-for.js';
import { startEtcd, type EtcdServer } from '../../test/helpers/etcd.js';
import type { Standalone } from '../../test/helpers/standalone.js';
import { percentile, seededRng } from '../chaos/random.js';
import { ChaosGroup, killAllStarted } from './group.js';
import { HaLoad, seqOf } from './load.js';

export const TOPIC = 'HaChaosTopic';
const QUEUES = 4;

export interface HaChaosOptions {
  kills: number;
  /** No kill round starts after this many seconds; the read-back has its own bound. */
  seconds: number;
  seed: number;
  concurrency: number;
  size: number;
  /** Messages per second; 0 = unpaced. */
  rate: number;
  delayMinMs: number;
  delayMaxMs: number;
  /** ali-ons' route refresh period of the producer (pollNameServerInteval, ms; its own default is 30000). */
  clientPollMs: number;
  /** Bound of each wait in a round (election, first ack, restart, rejoin). */
  stepTimeoutMs: number;
  keep: boolean;
  log(line: string): void;
  /** Read between steps: a true value ends the rounds early (an interrupt). */
  stopRequested(): boolean;
}

export const DEFAULT_OPTIONS: Omit<HaChaosOptions, 'seed' | 'log' | 'stopRequested'> = {
  kills: 20,
  seconds: 900,
  concurrency: 8,
  size: 256,
  rate: 0,
  delayMinMs: 2000,
  delayMaxMs: 6000,
  clientPollMs: 300,
  stepTimeoutMs: 120_000,
  keep: false,
};

export interface KillRound {
  round: number;
  killedId: number;
  epochBefore: number;
  /** Kill → a survivor answers master=true (ms). */
  failoverMs?: number;
  newMasterId?: number;
  epochAfter?: number;
  /** Kill → first SEND_OK stored by a survivor (ms). */
  firstAckMs?: number;
  /** Spawn → ready line of the killed member (ms). */
  restartMs?: number;
  /** Ready → all three in the stored in-sync set again (ms). */
  rejoinMs?: number;
  error?: string;
}

export interface HaChaosSummary {
  seed: number;
  dataDir: string;
  durationMs: number;
  rounds: KillRound[];
  issued: number;
  attempts: number;
  acknowledged: number;
  abandoned: number;
  notOk: Record<string, number>;
  failed: Record<string, number>;
  /** False when the run ended before the read-back (then lost and the duplicates mean nothing). */
  readBack: boolean;
  /** Acknowledged but never read back: must be 0. */
  lost: number;
  lostSample: number[];
  /** Deliveries beyond one per message. */
  duplicatesSeen: number;
  /** Extra stored copies of a message (a re-send after an unanswered attempt that had been stored). */
  storedDuplicates: number;
  /** The same stored record delivered again. */
  redeliveries: number;
  /** Read back but never acknowledged (stored by an attempt whose answer was lost). */
  unackedRead: number;
  readMs: number;
  failoverP50: number;
  failoverMax: number;
  firstAckP50: number;
  firstAckMax: number;
  over5s: number;
  finalEpoch: number;
  /** Promotions logged by the members ("now the master"): 1 at start + 1 per kill when nothing flaps. */
  promotions: number;
  /** Step-downs logged by members that were not killed, by reason. */
  stepDowns: Record<string, number>;
  failures: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Counts the role changes the members logged (pino JSON lines on their stderr). */
function countLogs(paths: string[]): { promotions: number; stepDowns: Record<string, number> } {
  let promotions = 0;
  const stepDowns: Record<string, number> = {};
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.includes('"msg"')) continue;
      let msg: string;
      try {
        msg = (JSON.parse(line) as { msg?: string }).msg ?? '';
      } catch {
        continue;
      }
      if (msg === 'this member is now the master of its group') promotions++;
      else if (msg.startsWith('stepping down: ')) {
        const why = msg.slice('stepping down: '.length);
        stepDowns[why] = (stepDowns[why] ?? 0) + 1;
      }
    }
  }
  return { promotions, stepDowns };
}

export async function runHaChaos(o: HaChaosOptions): Promise<HaChaosSummary> {
  const started = Date.now();
  const deadline = started + o.seconds * 1000;
  const rng = seededRng(o.seed);
  const dataDir = mkdtempSync(join(tmpdir(), 'apogee-ha-chaos-'));
  const failures: string[] = [];
  const rounds: KillRound[] = [];
  let etcd: EtcdServer | undefined;
  let ns: Awaited<ReturnType<typeof startNamesrv>> | undefined;
  let group: ChaosGroup | undefined;
  let h: OnsHarness | undefined;
  let load: HaLoad | undefined;
  const read = { readBack: false, lost: 0, lostSample: [] as number[], duplicatesSeen: 0, storedDuplicates: 0, redeliveries: 0, unackedRead: 0, readMs: 0 };
  let finalEpoch = 0;
  try {
    etcd = await startEtcd();
    ns = await startNamesrv(loadConfig('namesrv', { flags: { listenPort: 0, host: '127.0.0.1' } }));
    const namesrvAddr = ns.addresses.namesrv!;
    group = new ChaosGroup({
      root: dataDir,
      namesrvAddr,
      brokerName: 'ha-chaos',
      common: [...controllerArgs(etcd.endpoint), '--mappedFileSizeCommitLog=4194304', '--logLevel=info'],
    });
    for (const m of group.members) await m.start(o.stepTimeoutMs);
    const g = group;
    const first = await checkFor(o.stepTimeoutMs, 100, () => g.master(), 'a first master elected');
    await g.createTopic(first.member.addr, TOPIC, QUEUES);
    await checkFor(o.stepTimeoutMs, 100, async () => (await g.master())?.status.syncStateSet.length === 3, 'all three in the stored in-sync set');
    o.log(`ha-chaos: group up (etcd ${etcd.endpoint}, name server ${namesrvAddr}, master member ${first.member.id}), data in ${dataDir}`);

    h = new OnsHarness({ namesrvAddr } as Standalone);
    // A producer finds the new master only when it next reads the route from the name server.
    const producer = await h.producer('GID_ha_chaos_p', { pollNameServerInteval: o.clientPollMs });
    load = new HaLoad(producer, { topic: TOPIC, concurrency: o.concurrency, size: o.size, rate: o.rate }).start();
    await checkFor(o.stepTimeoutMs, 50, () => load!.acks.size > 0, 'a first acknowledgement');

    for (let n = 1; n <= o.kills && Date.now() < deadline && !o.stopRequested(); n++) {
      const r = await killRound(g, load, n, rng.int(o.delayMinMs, o.delayMaxMs), o);
      rounds.push(r);
      o.log(
        `ha-chaos: round ${n}: killed member ${r.killedId} (epoch ${r.epochBefore}); ` +
          (r.error
            ? `FAILED: ${r.error}`
            : `member ${r.newMasterId} master after ${r.failoverMs} ms (epoch ${r.epochAfter}), first ack after ${r.firstAckMs} ms, ` +
              `restart ${r.restartMs} ms, back in sync ${r.rejoinMs} ms; ${load.acks.size} acknowledged so far`),
      );
      if (r.error) {
        failures.push(`round ${n}: ${r.error}`);
        break;
      }
    }
    o.log(`ha-chaos: stopping the load (${load.acks.size} acknowledged)`);
    await load.stop();
    const last = await checkFor(o.stepTimeoutMs, 200, () => g.master(), 'a master for the read-back');
    finalEpoch = last.status.epoch;
    Object.assign(read, await readBack(h, load, o));
    if (read.lost > 0) failures.push(`${read.lost} acknowledged messages not read back (e.g. ${read.lostSample.join(', ')})`);
  } catch (err) {
    failures.push(`run aborted: ${(err as Error).message}`);
  } finally {
    if (load) await load.stop();
    if (h) await withTimeout(h.close(), 10_000);
    if (group) await group.close();
    if (ns) await ns.close();
    if (etcd) await etcd.stop();
    killAllStarted();
  }
  const logs = countLogs(group ? group.members.map((m) => m.logPath) : []);
  if (!o.keep) rmSync(dataDir, { recursive: true, force: true });
  const ok = rounds.filter((r) => r.failoverMs !== undefined);
  const fo = ok.map((r) => r.failoverMs!);
  const fa = rounds.filter((r) => r.firstAckMs !== undefined).map((r) => r.firstAckMs!);
  return {
    seed: o.seed,
    dataDir,
    durationMs: Date.now() - started,
    rounds,
    issued: load?.issued ?? 0,
    attempts: load?.attempts ?? 0,
    acknowledged: load?.acks.size ?? 0,
    abandoned: load?.abandoned ?? 0,
    notOk: Object.fromEntries(load?.notOk ?? []),
    failed: Object.fromEntries(load?.failed ?? []),
    ...read,
    failoverP50: percentile(fo, 50),
    failoverMax: fo.length ? Math.max(...fo) : NaN,
    firstAckP50: percentile(fa, 50),
    firstAckMax: fa.length ? Math.max(...fa) : NaN,
    over5s: fo.filter((ms) => ms >= 5000).length,
    finalEpoch,
    promotions: logs.promotions,
    stepDowns: logs.stepDowns,
    failures,
  };
}

async function killRound(g: ChaosGroup, load: HaLoad, n: number, delayMs: number, o: HaChaosOptions): Promise<KillRound> {
  // The moment of the kill is the variable under test, not a wait for a condition.
  await sleep(delayMs);
  const m = await checkFor(o.stepTimeoutMs, 100, () => g.master(), 'the master to kill');
  const victim = m.member;
  const r: KillRound = { round: n, killedId: victim.id, epochBefore: m.status.epoch };
  const killedPort = victim.port;
  const killedAt = Date.now();
  const firstAck = load.ackAfter(killedAt, killedPort);
  await victim.kill();
  const survivors = g.members.filter((x) => x !== victim);
  try {
    const next = await checkFor(o.stepTimeoutMs, 50, () => g.master(survivors), 'a survivor to become master');
    r.failoverMs = Date.now() - killedAt;
    r.newMasterId = next.member.id;
    r.epochAfter = next.status.epoch;
    const ack = await Promise.race([firstAck, sleep(o.stepTimeoutMs).then(() => undefined)]);
    if (!ack) throw new Error(`no acknowledgement from a survivor within ${o.stepTimeoutMs} ms`);
    r.firstAckMs = ack.at - killedAt;
    r.restartMs = Math.round(await victim.start(o.stepTimeoutMs));
    const back = Date.now();
    await waitAllInSync(g, o.stepTimeoutMs);
    r.rejoinMs = Date.now() - back;
  } catch (err) {
    r.error = (err as Error).message;
  }
  return r;
}

/** Until whoever is master stores all three members in its in-sync set. */
async function waitAllInSync(g: ChaosGroup, timeoutMs: number): Promise<void> {
  await checkFor(timeoutMs, 100, async () => (await g.master())?.status.syncStateSet.length === 3, 'all three back in the stored in-sync set');
}

/**
 * A new consumer group reads the topic from the first offset until every acknowledged message was
 * delivered, or nothing new arrived for a minute. Records are told apart by commit-log offset,
 * which every member shares for the same record.
 */
async function readBack(h: OnsHarness, load: HaLoad, o: HaChaosOptions) {
  const t0 = Date.now();
  const copies = new Map<number, Set<number>>();
  let deliveries = 0;
  let lastProgress = Date.now();
  const missing = new Set(load.acks.keys());
  await h.consumer({ consumerGroup: `GID_ha_chaos_reader_${o.seed}` }, TOPIC, '*', async (m: OnsMessage) => {
    const seq = seqOf(m.body);
    if (seq < 0) return;
    deliveries++;
    let s = copies.get(seq);
    if (!s) copies.set(seq, (s = new Set()));
    s.add(Number(m.commitLogOffset));
    if (missing.delete(seq)) lastProgress = Date.now();
  });
  const STALL_MS = 60_000;
  // Far above what ali-ons needs for the messages a run acknowledges; the stall rule ends it sooner.
  const boundMs = 30 * 60_000;
  let reported = Date.now();
  await checkFor(boundMs, 500, () => {
    if (Date.now() - reported > 15_000) {
      reported = Date.now();
      o.log(`ha-chaos: read back ${load.acks.size - missing.size} of ${load.acks.size} acknowledged`);
    }
    return missing.size === 0 || Date.now() - lastProgress > STALL_MS;
  }).catch(() => undefined); // what is still missing then is counted as lost
  let records = 0;
  let unackedRead = 0;
  for (const [seq, s] of copies) {
    records += s.size;
    if (!load.acks.has(seq)) unackedRead++;
  }
  return {
    readBack: true,
    lost: missing.size,
    lostSample: [...missing].slice(0, 10),
    duplicatesSeen: deliveries - copies.size,
    storedDuplicates: records - copies.size,
    redeliveries: deliveries - records,
    unackedRead,
    readMs: Date.now() - t0,
  };
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (t = setTimeout(r, ms)))]);
  clearTimeout(t);
}
