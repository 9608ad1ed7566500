// The real `apogee standalone` as a process group of its own, started, killed, stopped and
// restarted on one data directory. Every group this module starts is remembered so that an
// exit of the chaos run, however it happens, kills exactly those and nothing else.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseReadyLine } from '../../test/helpers/spawn-apogee.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'apogee.js');
const READY_RE = /^apogee ready:.*$/m;
/** Enough of the broker's log to show why a start failed and what recovery reported. */
const LOG_TAIL = 64 * 1024;

/**
 * How the broker is parented. `direct`: a child of this process, which reaps it at once.
 * `zombie-parent`: started by `sh` through setsid (so it still leads its own group) after which
 * `sh` becomes `sleep`, which never waits for children: once killed, the broker stays a zombie
 * for as long as the parent lives (the form of the issue 10 report).
 */
export type ParentForm = 'direct' | 'zombie-parent';

export interface StartOptions {
  dataDir: string;
  /** Flags appended to the standalone's defaults (later flags win). */
  extraArgs?: readonly string[];
  readyTimeoutMs?: number;
}

export function standaloneArgs(dataDir: string, extra: readonly string[] = []): string[] {
  return [
    'standalone',
    '--namesrvPort=0',
    '--listenPort=0',
    '--grpcServerPort=0',
    '--httpPort=0',
    '--host=127.0.0.1',
    '--brokerIP1=127.0.0.1',
    '--flushDiskType=SYNC_FLUSH',
    '--logLevel=info',
    '--storePathRootDir',
    dataDir,
    ...extra,
  ];
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** "R", "S", "T" (stopped), "Z" (zombie)... or undefined once the pid is gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return stat.slice(close + 2, close + 3);
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One started standalone. `pid` leads its own process group (pgid = pid). */
export class BrokerProcess {
  addresses: { namesrv: string; broker: string } | undefined;
  /** Spawn to ready line, ms. */
  readyMs = NaN;
  private out = '';
  private err = '';
  private readonly spawnedAt = Date.now();
  readonly exited: Promise<void>;

  constructor(
    readonly form: ParentForm,
    /** What we spawned: the broker itself (direct) or its non-reaping parent. */
    readonly spawned: ChildProcess,
    private readonly owner: BrokerSupervisor,
  ) {
    spawned.stdout!.setEncoding('utf8').on('data', (d: string) => (this.out = (this.out + d).slice(-LOG_TAIL)));
    spawned.stderr!.setEncoding('utf8').on('data', (d: string) => (this.err = (this.err + d).slice(-LOG_TAIL)));
    this.exited = new Promise((resolve) => spawned.once('exit', () => resolve()));
  }

  /** The broker's pid: the spawned child, or the one the parent printed. */
  get pid(): number | undefined {
    if (this.form === 'direct') return this.spawned.pid;
    const m = /chaos-broker-pid=(\d+)/.exec(this.out);
    return m ? Number(m[1]) : undefined;
  }

  stdout(): string {
    return this.out;
  }

  stderr(): string {
    return this.err;
  }

  /** Resolves with the addresses once the ready line is printed; rejects if the broker dies first. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = READY_RE.exec(this.out);
      if (m) {
        this.readyMs = Date.now() - this.spawnedAt;
        const a = parseReadyLine(m[0]);
        if (!a.namesrv || !a.broker) throw new Error(`ready line without namesrv/broker: ${m[0]}`);
        this.addresses = { namesrv: a.namesrv, broker: a.broker };
        return;
      }
      if (this.isDead()) throw new Error(`apogee exited before ready:\n${this.err.slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`apogee not ready after ${timeoutMs} ms:\n${this.err.slice(-4000)}`);
      await sleep(20);
    }
  }

  /** Dead means reaped or a zombie: it holds no file, socket or lock any more. */
  isDead(): boolean {
    const pid = this.pid;
    if (this.form === 'direct') return this.spawned.exitCode !== null || this.spawned.signalCode !== null;
    if (pid === undefined) return this.spawned.exitCode !== null || this.spawned.signalCode !== null;
    const s = processState(pid);
    return s === undefined || s === 'Z' || s === 'X';
  }

  isZombie(): boolean {
    const pid = this.pid;
    return pid !== undefined && processState(pid) === 'Z';
  }

  /** SIGKILL to the broker's whole process group, then wait until it is dead (bounded). */
  async killGroup(): Promise<void> {
    // The parent prints the broker's pid as its first act; a kill right after spawn waits for it.
    const known = Date.now() + 5_000;
    while (this.pid === undefined && !this.isDead() && Date.now() < known) await sleep(5);
    const pid = this.pid;
    if (pid === undefined) throw new Error(`no broker pid from the ${this.form} start:\n${this.out}`);
    this.signalGroup('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (!this.isDead()) {
      if (Date.now() > deadline) throw new Error(`broker ${pid} still alive 10 s after SIGKILL`);
      await sleep(5);
    }
  }

  signalGroup(signal: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  /** Kills the non-reaping parent (the zombie is then reaped by init) and forgets this process. */
  async release(): Promise<void> {
    if (!this.isDead()) await this.killGroup();
    this.owner.killSpawned(this.spawned);
    await this.exited;
    this.owner.forget(this);
  }

  /** SIGTERM (clean shutdown); returns the exit code, or null when it had to be SIGKILLed. */
  async terminate(timeoutMs = 20_000): Promise<number | null> {
    if (this.form !== 'direct') {
      await this.release();
      return null;
    }
    if (this.isDead()) {
      this.owner.forget(this);
      return this.spawned.exitCode;
    }
    this.signalGroup('SIGCONT');
    this.spawned.kill('SIGTERM');
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    this.owner.forget(this);
    return this.spawned.exitCode;
  }
}

/** Starts standalones and keeps the list of process groups it owns. */
export class BrokerSupervisor {
  private readonly live = new Set<BrokerProcess>();

  /** Spawns without waiting for the ready line (to kill it while it recovers). */
  spawn(form: ParentForm, o: StartOptions): BrokerProcess {
    const args = standaloneArgs(o.dataDir, o.extraArgs);
    const env = { ...process.env, APOGEE_FROM_SOURCE: '1' };
    let child: ChildProcess;
    if (form === 'direct') {
      // detached: the broker leads a new process group, so one kill(-pid) reaches all of it.
      child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } else {
      const cmd = `setsid ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(' ')} & echo chaos-broker-pid=$!; exec sleep 3600`;
      child = spawn('sh', ['-c', cmd], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    }
    const b = new BrokerProcess(form, child, this);
    this.live.add(b);
    return b;
  }

  /** Spawns and waits for the ready line; a broker that does not get there is killed and the error thrown. */
  async start(form: ParentForm, o: StartOptions): Promise<BrokerProcess> {
    const b = this.spawn(form, o);
    try {
      await b.waitReady(o.readyTimeoutMs ?? 60_000);
    } catch (err) {
      await b.release().catch(() => undefined);
      throw err;
    }
    return b;
  }

  killSpawned(child: ChildProcess): void {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  forget(b: BrokerProcess): void {
    this.live.delete(b);
  }

  /** Synchronous, for process exit: kill every group started here (continued first, in case it was stopped). */
  killAllSync(): void {
    for (const b of this.live) {
      b.signalGroup('SIGCONT');
      b.signalGroup('SIGKILL');
      this.killSpawned(b.spawned);
    }
    this.live.clear();
  }
}
