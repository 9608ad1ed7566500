// Runs the real `apogee` command (TypeScript sources through tsx) for black-box tests: waits
// for its ready line, parses the addresses, and always kills the child on dispose or timeout.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/apogee.js', import.meta.url));
const READY_RE = /^apogee ready:(.*)$/m;

export interface ApogeeAddresses {
  namesrv?: string;
  broker?: string;
  grpc?: string;
  http?: string;
}

export interface ApogeeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ApogeeProcess extends AsyncDisposable {
  readonly addresses: ApogeeAddresses;
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Sends the signal and waits for the exit; SIGKILLs after timeoutMs. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ApogeeExit>;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
  readyTimeoutMs?: number;
}

export function parseReadyLine(line: string): ApogeeAddresses {
  const m = READY_RE.exec(line);
  if (!m) throw new Error(`not a ready line: ${line}`);
  const out: Record<string, string> = {};
  for (const part of m[1].trim().split(/\s+/)) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out as ApogeeAddresses;
}

function launch(args: readonly string[], opts: SpawnOptions) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, APOGEE_FROM_SOURCE: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<ApogeeExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, stdout: () => out, stderr: () => err };
}

/** Starts `apogee <args>` and resolves once it prints its ready line. */
export async function spawnApogee(args: readonly string[], opts: SpawnOptions = {}): Promise<ApogeeProcess> {
  const run = launch(args, opts);
  const timeoutMs = opts.readyTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const addresses = await new Promise<ApogeeAddresses>((resolve, reject) => {
      const check = (): void => {
        const m = READY_RE.exec(run.stdout());
        if (m) resolve(parseReadyLine(m[0]));
      };
      run.child.stdout!.on('data', check);
      void run.exited.then((e) =>
        reject(new Error(`apogee exited before ready (code ${e.code}, signal ${e.signal}):\n${run.stderr()}`)),
      );
      timer = setTimeout(() => reject(new Error(`apogee not ready after ${timeoutMs} ms:\n${run.stderr()}`)), timeoutMs);
    });
    return handle(run, addresses);
  } catch (err) {
    run.child.kill('SIGKILL');
    await run.exited;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function handle(run: ReturnType<typeof launch>, addresses: ApogeeAddresses): ApogeeProcess {
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<ApogeeExit> => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill(signal);
    const killer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
    try {
      return await run.exited;
    } finally {
      clearTimeout(killer);
    }
  };
  return {
    addresses,
    child: run.child,
    stdout: run.stdout,
    stderr: run.stderr,
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop('SIGKILL', 5_000);
    },
  };
}

/** Runs `apogee <args>` that is expected to exit by itself (usage errors, help). */
export async function runApogee(
  args: readonly string[],
  opts: SpawnOptions & { timeoutMs?: number } = {},
): Promise<ApogeeExit & { stdout: string; stderr: string }> {
  const run = launch(args, opts);
  const killer = setTimeout(() => run.child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  try {
    const e = await run.exited;
    return { ...e, stdout: run.stdout(), stderr: run.stderr() };
  } finally {
    clearTimeout(killer);
  }
}
