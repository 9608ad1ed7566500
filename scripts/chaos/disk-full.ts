// The disk-full round: a standalone on a small tmpfs mounted here, a filler file taking most of
// the space, ali-ons sending until the broker refuses; then the filler is removed and sends must
// resume, and everything acknowledged must read back, before and after a SIGKILL and restart.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { checkFor } from '../../test/helpers/check-for.js';
import type { BrokerProcess, BrokerSupervisor } from './broker.js';
import { makeBody } from './body.js';
import { Load, OnsProducer, type Ack } from './load.js';
import { seededRng, type Rng } from './random.js';
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
  /** A SIGKILL while the disk was full, then a restart on the still full disk: did it get ready, and what did a send get then. */
  restartedWhileFull: boolean;
  refusalAfterRestart?: { code: number | undefined; remark: string };
  /** Sends acknowledged again after the filler was removed, and how long that took. */
  resumed: boolean;
  resumeMs?: number;
  ackedAfterFree: number;
  /** Every acknowledged message read back at each step. */
  readBacks: Array<{ when: string; tally: Tally }>;
  /** Observations that are not losses. */
  notes: string[];
  /** Acknowledged messages lost or corrupt, a restart that failed, sends that never resumed. */
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

const MiB = 1024 * 1024;
const mib = (n: number): string => (n / MiB).toFixed(1);

class DiskFullRound {
  readonly res: DiskFullResult;
  readonly acks: Ack[] = [];
  readonly dataDir: string;
  readonly filler: string;
  broker: BrokerProcess | undefined;
  private readonly rng: Rng;
  private readonly extraArgs = [
    '--mappedFileSizeCommitLog=1048576',
    // The highest warning level allowed: the disk really runs out before the ratio check fires.
    '--diskSpaceWarningLevelRatio=99',
  ];

  constructor(
    private readonly sup: BrokerSupervisor,
    private readonly o: DiskFullOptions,
    readonly mnt: string,
    tmpfsMb: number,
  ) {
    this.res = { tmpfsMb, fillerBytes: 0, ackedBeforeFull: 0, sendErrors: [], restartedWhileFull: false, resumed: false, ackedAfterFree: 0, readBacks: [], notes: [], failures: [] };
    this.dataDir = join(mnt, 'data');
    this.filler = join(mnt, 'filler');
    this.rng = seededRng(o.seed);
  }

  async run(): Promise<void> {
    this.broker = await this.sup.start('direct', { dataDir: this.dataDir, extraArgs: this.extraArgs });
    await createTopic(this.broker);
    this.res.fillerBytes = writeFiller(this.filler, freeBytes(this.mnt) - (this.o.headroomMb ?? 4) * MiB);
    this.o.log(`disk-full: tmpfs ${this.res.tmpfsMb} MiB, filler ${mib(this.res.fillerBytes)} MiB, ${mib(freeBytes(this.mnt))} MiB left`);
    await this.fill();
    await this.readBack('on the full disk');
    await this.restartWhileFull();
    await this.readBack('after a SIGKILL and a restart on the full disk');
    await this.freeAndResume();
    await this.readBack('after freeing space');
    await this.restart();
    await this.readBack('after a SIGKILL and a restart with space free');
  }

  /** Sends until the broker refuses (bounded: 4 MiB of ~1 KiB bodies fill in seconds). */
  private async fill(): Promise<void> {
    const producer = await OnsProducer.open(this.broker!.addresses!.namesrv, 'CHAOS_DISK_PRODUCER');
    try {
      const load = new Load(producer, { topic: TOPIC, round: 1, concurrency: this.o.concurrency, maxMessages: 100_000, rng: this.rng }).start();
      const full = await checkFor(60_000, 20, () => load.failed + load.notOk > 0).then(
        () => true,
        () => false,
      );
      await load.stop();
      this.acks.push(...load.acks);
      this.res.ackedBeforeFull = load.acks.length;
      this.res.sendErrors = counts(load);
      if (!full) this.res.notes.push(`no send refused within 60 s (${load.acks.length} acknowledged, ${mib(freeBytes(this.mnt))} MiB free)`);
      this.res.refusal = await probeRefusal(producer, 9);
    } finally {
      await producer.close();
    }
    this.o.log(`disk-full: ${this.res.ackedBeforeFull} acknowledged before the refusals; ali-ons send() threw: ${this.res.sendErrors.slice(0, 3).join(' | ') || 'nothing'}`);
    this.o.log(`disk-full: the broker's answer to one more send: ${describe(this.res.refusal)}`);
  }

  private async restart(): Promise<void> {
    await this.broker!.killGroup();
    await this.broker!.release();
    this.broker = undefined;
    this.broker = await this.sup.start('direct', { dataDir: this.dataDir, extraArgs: this.extraArgs });
  }

  /** A store must open on a full disk (its own recovery writes may fail) and keep what it acknowledged readable. */
  private async restartWhileFull(): Promise<void> {
    try {
      await this.restart();
    } catch (err) {
      this.res.failures.push(`disk-full round: the restart on the full disk failed: ${(err as Error).message.slice(0, 1500)}`);
      // Free the space so the rest of the round can still check what was acknowledged.
      unlinkSync(this.filler);
      this.broker = await this.sup.start('direct', { dataDir: this.dataDir, extraArgs: this.extraArgs });
      return;
    }
    this.res.restartedWhileFull = true;
    const producer = await OnsProducer.open(this.broker!.addresses!.namesrv, 'CHAOS_DISK_PRODUCER');
    try {
      // sendOnce needs the producer to know the route: one ordinary send first (refused or not, it counts as unacknowledged).
      await producer.send(TOPIC, makeBody(8, 1, this.rng)).catch(() => undefined);
      this.res.refusalAfterRestart = await probeRefusal(producer, 8);
    } finally {
      await producer.close();
    }
    this.o.log(`disk-full: restarted after a SIGKILL on the full disk in ${this.broker!.readyMs} ms; a send then got: ${describe(this.res.refusalAfterRestart)}`);
  }

  private async freeAndResume(): Promise<void> {
    if (existsSync(this.filler)) unlinkSync(this.filler);
    const freedAt = Date.now();
    const producer = await OnsProducer.open(this.broker!.addresses!.namesrv, 'CHAOS_DISK_PRODUCER');
    try {
      const load = new Load(producer, { topic: TOPIC, round: 2, concurrency: Math.min(4, this.o.concurrency), maxMessages: 100_000, rng: this.rng }).start();
      this.res.resumed = await checkFor(30_000, 20, () => load.acks.length > 0).then(
        () => true,
        () => false,
      );
      if (this.res.resumed) {
        this.res.resumeMs = Date.now() - freedAt;
        const target = load.acks.length + 200;
        await checkFor(10_000, 20, () => load.acks.length >= target).catch(() => undefined);
      } else {
        this.res.failures.push(`disk-full round: sends did not resume within 30 s of freeing ${mib(this.res.fillerBytes)} MiB (${counts(load).slice(0, 2).join(' | ')})`);
      }
      await load.stop();
      this.acks.push(...load.acks);
      this.res.ackedAfterFree = load.acks.length;
    } finally {
      await producer.close();
    }
    this.o.log(`disk-full: after freeing the filler ${this.res.resumed ? `sends resumed in ${this.res.resumeMs} ms, ${this.res.ackedAfterFree} acknowledged` : 'sends did not resume'}`);
  }

  private async readBack(when: string): Promise<void> {
    const t = tally(this.acks, await scanTopic(this.broker!.addresses!.broker, TOPIC, QUEUES, [], Date.now() + 60_000));
    this.res.readBacks.push({ when, tally: t });
    this.o.log(`disk-full: read-back ${when}: ${t.acked} acknowledged, ${t.lost.length} lost, ${t.duplicated} duplicated, ${t.corrupt.length} corrupt, ${t.misplaced.length} misplaced`);
    if (t.lost.length || t.corrupt.length || t.misplaced.length) {
      this.res.failures.push(`disk-full round, read-back ${when}: lost ${t.lost.slice(0, 5).join(' ')}; corrupt ${t.corrupt.slice(0, 5).join('; ')}; misplaced ${t.misplaced.slice(0, 5).join('; ')}`);
    }
  }
}

function describe(r: { code: number | undefined; remark: string } | undefined): string {
  return r ? `code ${r.code} "${r.remark}"` : 'accepted';
}

export async function runDiskFullRound(sup: BrokerSupervisor, o: DiskFullOptions): Promise<DiskFullResult> {
  const tmpfsMb = o.tmpfsMb ?? 96;
  const mnt = mkdtempSync(join(o.parent, 'tmpfs-'));
  try {
    mount(mnt, tmpfsMb);
  } catch (err) {
    rmSync(mnt, { recursive: true, force: true });
    const skipped = `cannot mount a tmpfs at ${mnt}: ${(err as Error).message.split('\n')[0]}`;
    o.log(`disk-full round skipped: ${skipped}`);
    return { skipped, tmpfsMb, fillerBytes: 0, ackedBeforeFull: 0, sendErrors: [], restartedWhileFull: false, resumed: false, ackedAfterFree: 0, readBacks: [], notes: [], failures: [] };
  }
  const round = new DiskFullRound(sup, o, mnt, tmpfsMb);
  try {
    await round.run();
  } catch (err) {
    round.res.failures.push(`disk-full round stopped: ${(err as Error).message.slice(0, 2000)}`);
  } finally {
    if (round.broker) await round.broker.terminate().catch(() => undefined);
    try {
      unmount(mnt);
      rmSync(mnt, { recursive: true, force: true });
    } catch (err) {
      round.res.notes.push(`unmount of ${mnt} failed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return round.res;
}
