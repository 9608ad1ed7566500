// A real etcd server for tests (Debian's etcd-server package, installed by .ci/run), started on
// free loopback ports with its own data directory and killed by pid on dispose; plus a TCP proxy
// in front of it that can cut a member off from etcd without touching the others.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFor } from './check-for.js';

export interface EtcdServer extends AsyncDisposable {
  /** Client endpoint, `127.0.0.1:port`. */
  readonly endpoint: string;
  readonly pid: number;
  stderr(): string;
  /** Kills etcd (SIGKILL by pid) and removes its data directory. */
  stop(): Promise<void>;
}

/** A loopback port free at the time of the call (nothing listens on it afterwards). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function requireEtcd(): void {
  const r = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error('etcd is not installed: apt-get install -y etcd-server (.ci/run installs it)');
  }
}

async function healthy(endpoint: string): Promise<boolean> {
  const res = await fetch(`http://${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
  return res.ok && ((await res.json()) as { health?: string }).health === 'true';
}

async function exitOf(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await Promise.race([
    new Promise((resolve) => child.once('exit', resolve)),
    new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
  ]);
}

async function tryStart(dataRoot: string): Promise<EtcdServer | { failed: string }> {
  const client = await freePort();
  const peer = await freePort();
  const endpoint = `127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const dir = join(dataRoot, `member-${client}`);
  const child = spawn(
    'etcd',
    [
      '--name', 't',
      '--data-dir', dir,
      '--listen-client-urls', `http://${endpoint}`,
      '--advertise-client-urls', `http://${endpoint}`,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `t=${peerUrl}`,
      '--logger', 'zap',
      '--log-level', 'error',
      '--log-outputs', 'stderr',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-20000)));
  const pid = child.pid!;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
    await exitOf(child, 5000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await checkFor(10_000, 50, async () => {
      if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}`);
      return healthy(endpoint);
    }, `etcd at ${endpoint} to report healthy`);
  } catch (e) {
    await stop();
    return { failed: `${(e as Error).message}\n${err}` };
  }
  return { endpoint, pid, stderr: () => err, stop, [Symbol.asyncDispose]: stop };
}

/**
 * Starts a single-member etcd on free loopback ports. A port grabbed by someone else between
 * choosing and binding it makes etcd exit; that is retried twice with new ports.
 */
export async function startEtcd(): Promise<EtcdServer> {
  requireEtcd();
  const dataRoot = mkdtempSync(join(tmpdir(), 'apogee-etcd-'));
  const failures: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await tryStart(dataRoot);
    if (!('failed' in r)) {
      const stop = async () => {
        await r.stop();
        rmSync(dataRoot, { recursive: true, force: true });
      };
      return { endpoint: r.endpoint, pid: r.pid, stderr: r.stderr, stop, [Symbol.asyncDispose]: stop };
    }
    failures.push(r.failed);
  }
  rmSync(dataRoot, { recursive: true, force: true });
  throw new Error(`etcd did not start:\n${failures.join('\n---\n')}`);
}

export interface TcpProxy extends AsyncDisposable {
  /** `127.0.0.1:port` forwarding to the target. */
  readonly endpoint: string;
  /**
   * Cuts the link as a network partition does: open connections stay open but carry nothing,
   * new ones are accepted and left silent, so calls through it hang until their deadline.
   */
  partition(): void;
  /** Restores forwarding; connections held during the partition are dropped (peers reconnect). */
  heal(): void;
  /** Changes the link's latency from now on. */
  setLatency(l: TcpProxyOptions): void;
  close(): Promise<void>;
}

interface Latency {
  delayMs: number;
  jitterMs: number;
}

/** Forwards each chunk after the link's delay plus up to its jitter, in order (one FIFO, one timer). */
function delayedPipe(from: Socket, to: Socket, latency: Latency): void {
  const queue: { chunk: Buffer; due: number }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const pump = () => {
    timer = undefined;
    while (queue.length > 0 && queue[0].due <= Date.now()) {
      const { chunk } = queue.shift()!;
      if (!to.destroyed) to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(pump, queue[0].due - Date.now());
  };
  from.on('data', (chunk: Buffer) => {
    if (latency.delayMs <= 0 && latency.jitterMs <= 0 && queue.length === 0) {
      to.write(chunk);
      return;
    }
    const last = queue.length > 0 ? queue[queue.length - 1].due : 0;
    queue.push({ chunk, due: Math.max(last, Date.now() + latency.delayMs + Math.random() * latency.jitterMs) });
    timer ??= setTimeout(pump, queue[0].due - Date.now());
  });
  from.on('close', () => clearTimeout(timer));
}

export interface TcpProxyOptions {
  /** Extra one-way latency of every chunk, both ways. */
  delayMs?: number;
  /** Random extra latency on top, up to this many ms (order is kept). */
  jitterMs?: number;
}

export async function startTcpProxy(target: string, opts: TcpProxyOptions = {}): Promise<TcpProxy> {
  const latency: Latency = { delayMs: opts.delayMs ?? 0, jitterMs: opts.jitterMs ?? 0 };
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const links = new Set<{ client: Socket; upstream?: Socket }>();
  let cut = false;
  const drop = (l: { client: Socket; upstream?: Socket }) => {
    l.client.destroy();
    l.upstream?.destroy();
    links.delete(l);
  };
  const server: Server = createServer((client) => {
    const link: { client: Socket; upstream?: Socket } = { client };
    links.add(link);
    client.on('error', () => drop(link)).on('close', () => drop(link));
    if (cut) return client.pause();
    const upstream = connect(port, host);
    link.upstream = upstream;
    upstream.on('error', () => drop(link)).on('close', () => drop(link));
    delayedPipe(client, upstream, latency);
    delayedPipe(upstream, client, latency);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const endpoint = `127.0.0.1:${(server.address() as { port: number }).port}`;
  const close = async () => {
    for (const l of [...links]) drop(l);
    await new Promise((resolve) => server.close(resolve));
  };
  return {
    endpoint,
    partition() {
      cut = true;
      for (const l of links) {
        l.client.removeAllListeners('data');
        l.upstream?.removeAllListeners('data');
        l.client.pause();
        l.upstream?.pause();
      }
    },
    heal() {
      cut = false;
      for (const l of [...links]) drop(l);
    },
    setLatency(l) {
      latency.delayMs = l.delayMs ?? 0;
      latency.jitterMs = l.jitterMs ?? 0;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
