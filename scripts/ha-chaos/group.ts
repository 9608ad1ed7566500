// The broker group of the HA chaos run: three controller-mode `apogee broker` processes, each on
// its own data directory and log file, that can be SIGKILLed and restarted on that directory.
// Every process started here is remembered by pid, so any exit of the run kills exactly those.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import type { HaStatus } from '../../test/helpers/broker-group.js';
import { parseReadyLine } from '../../test/helpers/spawn-apogee.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'apogee.js');
const READY_RE = /^apogee ready:.*$/m;

const live = new Set<ChildProcess>();
let hooked = false;

/** Kills (SIGKILL, by pid) every broker this module started that is still running. */
export function killAllStarted(): void {
  for (const c of live) {
    try {
      if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllStarted);
}

async function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

export class Member {
  child: ChildProcess | undefined;
  /** The remoting address of the current run (a restart binds a new port). */
  addr = '';
  port = 0;
  starts = 0;

  constructor(
    readonly id: number,
    readonly dataDir: string,
    readonly logPath: string,
    private readonly args: readonly string[],
  ) {}

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the broker (its stderr appended to logPath) and resolves at its ready line; the time it took in ms. */
  async start(readyTimeoutMs: number): Promise<number> {
    hookExit();
    const t0 = performance.now();
    const fd = openSync(this.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [BIN, ...this.args], {
        cwd: ROOT,
        env: { ...process.env, APOGEE_FROM_SOURCE: '1' },
        stdio: ['ignore', 'pipe', fd],
      });
    } finally {
      closeSync(fd);
    }
    live.add(child);
    child.once('exit', () => live.delete(child));
    this.child = child;
    this.starts++;
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout!.setEncoding('utf8').on('data', (d: string) => {
          out = (out + d).slice(-8192);
          const m = READY_RE.exec(out);
          if (m) resolve(m[0]);
        });
        child.once('exit', (code, signal) => reject(new Error(`member ${this.id} exited before ready (code ${code}, signal ${signal}); see ${this.logPath}`)));
        timer = setTimeout(() => reject(new Error(`member ${this.id} not ready after ${readyTimeoutMs} ms; see ${this.logPath}`)), readyTimeoutMs);
      });
      this.addr = parseReadyLine(line).broker!;
      this.port = Number(this.addr.slice(this.addr.lastIndexOf(':') + 1));
    } catch (err) {
      await this.kill();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    // Nothing more is read from stdout; keep the pipe drained so the broker never blocks on it.
    child.stdout!.resume();
    return performance.now() - t0;
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
    await exitOf(child);
  }
}

export interface GroupOptions {
  root: string;
  namesrvAddr: string;
  brokerName: string;
  /** Flags given to every member after the defaults (later flags win). */
  common: readonly string[];
}

export class ChaosGroup {
  readonly members: Member[];
  readonly rc = new RemotingClient();

  constructor(o: GroupOptions) {
    this.members = [1, 2, 3].map((id) => {
      const dataDir = join(o.root, `member-${id}`);
      return new Member(id, dataDir, join(o.root, `member-${id}.log`), [
        'broker',
        '--listenPort=0',
        '--haListenPort=0',
        '--grpcServerPort=0',
        '--httpPort=0',
        '--host=127.0.0.1',
        '--brokerIP1=127.0.0.1',
        `--namesrvAddr=${o.namesrvAddr}`,
        `--brokerName=${o.brokerName}`,
        `--brokerId=${id}`,
        '--brokerRole=SYNC_MASTER',
        '--storePathRootDir',
        dataDir,
        ...o.common,
      ]);
    });
  }

  async haStatus(addr: string, timeoutMs = 3000): Promise<HaStatus> {
    const resp = await this.rc.invoke(addr, createRequest(RequestCode.GET_BROKER_HA_STATUS, {}), timeoutMs);
    if (resp.code !== ResponseCode.SUCCESS) throw new Error(`haStatus ${addr}: ${resp.code} ${resp.remark ?? ''}`);
    const body = Array.isArray(resp.body) ? Buffer.concat(resp.body) : resp.body!;
    return JSON.parse(body.toString()) as HaStatus;
  }

  /** The running member that says it is master, with its status (undefined while none does). */
  async master(among: readonly Member[] = this.members): Promise<{ member: Member; status: HaStatus } | undefined> {
    for (const m of among) {
      if (!m.running) continue;
      try {
        const status = await this.haStatus(m.addr);
        if (status.master) return { member: m, status };
      } catch {
        // not answering (starting, or too busy to answer in time)
      }
    }
    return undefined;
  }

  async createTopic(addr: string, topic: string, queueNums: number): Promise<void> {
    const resp = await this.rc.invoke(addr, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic, readQueueNums: queueNums, writeQueueNums: queueNums, perm: 6 }));
    if (resp.code !== ResponseCode.SUCCESS) throw new Error(`create topic ${topic}: ${resp.code} ${resp.remark ?? ''}`);
  }

  async close(): Promise<void> {
    for (const m of this.members) await m.kill();
    await this.rc.close();
  }
}
