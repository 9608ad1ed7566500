// The disk-full round: a standalone on a small tmpfs mounted here, a filler file taking most of
// the space, ali-ons sending until the broker refuses; then the filler is removed and sends must
// resume, and everything acknowledged must read back, before and after a SIGKILL and restart.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { checkFor } from '../../test/helpers/check-for.js';
import type { BrokerProcess, BrokerSupervisor } from './broker.js';
import { makeBody } from './body.js';
import { Load, OnsProducer, type Ack } from './load.js';
import { seededRng } from './random.js';
import { scanTopic, tally, type Tally } from './verify.js';

const TOPIC = 'ChaosDiskTopic';
const QUEUES = 4;

export interface DiskFullOptions {
  /** Where the mount point is created. */
  parent: string;
  seed: number;
  concurrency: number;
  log: (line: string) => void;
  tmpfsMb?: number;
  /** Space left free by the filler, MiB: what the broker can write before the disk is full. */
  headroomMb?: number;
}

export interface DiskFullResult {
  /** Why the round did not run (e.g. mount refused). */
  skipped?: string;
  tmpfsMb: number;
  fillerBytes: number;
  ackedBeforeFull: number;
  /** What ali-ons' send() threw once the disk was full, with counts. */
  sendErrors: string[];
  /** The broker's answer as ali-ons' send layer sees it (code and remark), from one probe send. */
  refusal?: { code: number | undefined; remark: string };
  /** Sends acknowledged again after the filler was removed, and how long that took. */
  resumed: boolean;
  resumeMs?: number;
  ackedAfterFree: number;
  readBack?: Tally;
  readBackAfterRestart?: Tally;
  /** A send on the restarted broker (space free again) was acknowledged. */
  acceptedAfterRestart?: boolean;
  /** Observations that are not losses (e.g. sends did not resume). */
  notes: string[];
  /** Acknowledged messages lost or corrupt. */
  failures: string[];
}

function mount(dir: string, mb: number): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m`, 'tmpfs', dir], { stdio: 'pipe' });
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    // Something still holds a file open there (a process that would not die): detach it anyway.
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  }
}

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Writes a file of about `bytes` (stops early at ENOSPC); returns what it wrote. */
function writeFiller(path: string, bytes: number): number {
  const chunk = Buffer.alloc(1024 * 1024, 0x5a);
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    while (written < bytes) {
      try {
        written += writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

async function createTopic(b: BrokerProcess): Promise<void> {
  const rc = new RemotingClient();
  try {
    const req = createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: TOPIC, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    const resp = await rc.invoke(b.addresses!.broker, req);
    if (resp.code !== ResponseCode.SUCCESS) throw new Error(`create ${TOPIC}: ${resp.code} ${resp.remark ?? ''}`);
    await checkFor(10_000, 50, async () => (await rc.invoke(b.addresses!.namesrv, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: TOPIC }))).code === ResponseCode.SUCCESS);
  } finally {
    await rc.close();
  }
}

/** One send without ali-ons' retries, to see the broker's code and remark ali-ons' send() does not pass on. */
async function probeRefusal(p: OnsProducer, round: number): Promise<{ code: number | undefined; remark: string } | undefined> {
  try {
    await p.sendOnce(TOPIC, makeBody(round, 0, seededRng(round)));
    return undefined;
  } catch (err) {
    const e = err as Error & { code?: number };
    return { code: e.code, remark: e.message };
  }
}

function counts(l: Load): string[] {
  return [...l.failures].map(([what, n]) => `${n}x ${what}`);
}

export async function runDiskFullRound(sup: BrokerSupervisor, o: DiskFullOptions): Promise<DiskFullResult> {
  const tmpfsMb = o.tmpfsMb ?? 96;
  const res: DiskFullResult = { tmpfsMb, fillerBytes: 0, ackedBeforeFull: 0, sendErrors: [], resumed: false, ackedAfterFree: 0, notes: [], failures: [] };
  const mnt = mkdtempSync(join(o.parent, 'tmpfs-'));
  try {
    mount(mnt, tmpfsMb);
  } catch (err) {
    res.skipped = `cannot mount a tmpfs at ${mnt}: ${(err as Error).message.split('\n')[0]}`;
    o.log(`disk-full round skipped: ${res.skipped}`);
    rmSync(mnt, { recursive: true, force: true });
    return res;
  }
  const dataDir = join(mnt, 'data');
  const filler = join(mnt, 'filler');
  const extraArgs = [
    '--mappedFileSizeCommitLog=1048576',
    // The highest warning level allowed: the disk really runs out before the ratio check fires.
    '--diskSpaceWarningLevelRatio=99',
  ];
  let broker: BrokerProcess | undefined;
  const acks: Ack[] = [];
  try {
    broker = await sup.start('direct', { dataDir, extraArgs });
    await createTopic(broker);
    res.fillerBytes = writeFiller(filler, freeBytes(mnt) - (o.headroomMb ?? 4) * 1024 * 1024);
    o.log(`disk-full: tmpfs ${tmpfsMb} MiB, filler ${(res.fillerBytes / 1048576).toFixed(1)} MiB, ${(freeBytes(mnt) / 1048576).toFixed(1)} MiB left`);

    const rng = seededRng(o.seed);
    const producer = await OnsProducer.open(broker.addresses!.namesrv, 'CHAOS_DISK_PRODUCER');
    let load = new Load(producer, { topic: TOPIC, round: 1, concurrency: o.concurrency, maxMessages: 100_000, rng }).start();
    // Bounded: 4 MiB of ~1 KiB bodies fill in seconds; a broker that never refuses is itself the finding.
    const full = await checkFor(60_000, 20, () => load.failed + load.notOk > 0).then(
      () => true,
      () => false,
    );
    await load.stop();
    acks.push(...load.acks);
    res.ackedBeforeFull = load.acks.length;
    res.sendErrors = counts(load);
    if (!full) res.notes.push(`no send refused within 60 s (${load.acks.length} acknowledged, ${(freeBytes(mnt) / 1048576).toFixed(1)} MiB free)`);
    res.refusal = await probeRefusal(producer, 9);
    o.log(`disk-full: ${res.ackedBeforeFull} acknowledged before the refusals; ali-ons send() threw: ${res.sendErrors.slice(0, 3).join(' | ') || 'nothing'}`);
    o.log(`disk-full: the broker's answer to one more send: ${res.refusal ? `code ${res.refusal.code} "${res.refusal.remark}"` : 'accepted'}`);

    unlinkSync(filler);
    const freedAt = Date.now();
    load = new Load(producer, { topic: TOPIC, round: 2, concurrency: Math.min(4, o.concurrency), maxMessages: 100_000, rng }).start();
    res.resumed = await checkFor(30_000, 20, () => load.acks.length > 0).then(
      () => true,
      () => false,
    );
    if (res.resumed) {
      res.resumeMs = Date.now() - freedAt;
      const target = load.acks.length + 200;
      await checkFor(10_000, 20, () => load.acks.length >= target).catch(() => undefined);
    } else {
      res.notes.push(`sends did not resume within 30 s of freeing ${(res.fillerBytes / 1048576).toFixed(1)} MiB (${counts(load).slice(0, 2).join(' | ')})`);
    }
    await load.stop();
    await producer.close();
    acks.push(...load.acks);
    res.ackedAfterFree = load.acks.length;
    o.log(`disk-full: after freeing the filler ${res.resumed ? `sends resumed in ${res.resumeMs} ms, ${res.ackedAfterFree} acknowledged` : 'sends did not resume'}`);

    res.readBack = tally(acks, await scanTopic(broker.addresses!.broker, TOPIC, QUEUES, [], Date.now() + 60_000));
    await broker.killGroup();
    await broker.release();
    broker = await sup.start('direct', { dataDir, extraArgs });
    res.readBackAfterRestart = tally(acks, await scanTopic(broker.addresses!.broker, TOPIC, QUEUES, [], Date.now() + 60_000));
    const again = await OnsProducer.open(broker.addresses!.namesrv, 'CHAOS_DISK_PRODUCER');
    try {
      const r = await again.send(TOPIC, makeBody(3, 0, rng));
      res.acceptedAfterRestart = r.sendStatus === 'SEND_OK';
    } catch (err) {
      res.acceptedAfterRestart = false;
      res.notes.push(`a send after the restart failed: ${(err as Error).message}`);
    } finally {
      await again.close();
    }
    o.log(`disk-full: after the restart a send was ${res.acceptedAfterRestart ? 'accepted' : 'refused'}`);
    for (const [when, t] of [['before restart', res.readBack], ['after SIGKILL and restart', res.readBackAfterRestart]] as const) {
      o.log(`disk-full: read-back ${when}: ${t.acked} acknowledged, ${t.lost.length} lost, ${t.duplicated} duplicated, ${t.corrupt.length} corrupt, ${t.misplaced.length} misplaced`);
      if (t.lost.length || t.corrupt.length || t.misplaced.length) {
        res.failures.push(`disk-full round, read-back ${when}: lost ${t.lost.slice(0, 5).join(' ')}; corrupt ${t.corrupt.slice(0, 5).join('; ')}; misplaced ${t.misplaced.slice(0, 5).join('; ')}`);
      }
    }
  } catch (err) {
    res.failures.push(`disk-full round stopped: ${(err as Error).message.slice(0, 2000)}`);
  } finally {
    if (broker) await broker.terminate().catch(() => undefined);
    try {
      unmount(mnt);
      rmSync(mnt, { recursive: true, force: true });
    } catch (err) {
      res.notes.push(`unmount of ${mnt} failed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return res;
}
