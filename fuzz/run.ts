// npm run fuzz -- [--iterations N] [--target name[,name]] [--seed S] [--seconds T] [--jobs J]
//                 [--report file.json] [--replay file --target name] [--list]
//
// Runs each target over its share of N inputs (shares by weight) and prints, per target, inputs,
// verdicts, crashes, hangs and inputs/s. Each target runs in a process of its own (this script with
// one --target), inside a worker thread that a watchdog stops when an input runs past its bound;
// a process per target also keeps native addons loaded once per process (fs-ext does not survive
// being loaded by a second worker). Crashing or hanging inputs are written to .scratch/fuzz-crashes/
// with a note on how to replay them. Exits 1 on any crash or hang.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { runOne, type Finding, type FuzzStats } from './engine.js';
import { sharedView, SHARED_HEADER, SHARED_INPUT_BYTES, type WorkerJob, type WorkerMessage } from './shared.js';
import type { FuzzTarget } from './target.js';
import { targetByName, TARGETS } from './targets/index.js';

const CRASH_DIR = join('.scratch', 'fuzz-crashes');
/** Longer than any input's own bound: the watchdog is for inputs that never return. */
const WATCHDOG_MIN_MS = 15_000;
const WORKER_HEAP_MB = 2048;

interface Options {
  iterations: number;
  targets: FuzzTarget[];
  seed: number;
  seconds?: number;
  jobs: number;
  report?: string;
}

function usage(msg: string): never {
  console.error(`${msg}\nusage: npm run fuzz -- [--iterations N] [--target name[,name]] [--seed S] [--seconds T] [--jobs J] [--report file.json] [--replay file --target name] [--list]`);
  process.exit(2);
}

function positiveInt(v: string | undefined, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 0) usage(`${what} must be a non-negative integer, got ${v}`);
  return n;
}

/** Splits n over the targets by weight; every target gets at least one input. */
export function shares(n: number, targets: readonly FuzzTarget[]): number[] {
  const total = targets.reduce((s, t) => s + t.weight, 0);
  return targets.map((t) => Math.max(1, Math.round((n * t.weight) / total)));
}

function saveFinding(f: Finding, target: string, seed: number): string {
  mkdirSync(CRASH_DIR, { recursive: true });
  const base = join(CRASH_DIR, `${target}-${seed}-${f.index}-${f.kind}`);
  writeFileSync(`${base}.bin`, f.input);
  writeFileSync(
    `${base}.txt`,
    [
      `${f.kind} in fuzz target ${target}, seed ${seed}, input #${f.index} (${f.input.length} bytes)`,
      f.summary,
      '',
      f.detail,
      '',
      `replay this input:   npm run fuzz -- --target ${target} --replay ${base}.bin`,
      `replay the stream:   npm run fuzz -- --target ${target} --seed ${seed} --iterations ${f.index + 1}`,
      '',
    ].join('\n'),
  );
  return `${base}.bin`;
}

function emptyStats(target: string, seed: number): FuzzStats {
  return { target, seed, iterations: 0, accepted: 0, rejected: 0, crashes: 0, hangs: 0, elapsedMs: 0, slowestMs: 0, stoppedBy: 'iterations', findings: [] };
}

/** Runs one target in a worker under the watchdog; never rejects. */
function runInWorker(target: FuzzTarget, iterations: number, seed: number, timeBudgetMs: number | undefined, onProgress: (s: FuzzStats) => void): Promise<FuzzStats> {
  const shared = new SharedArrayBuffer(SHARED_HEADER + SHARED_INPUT_BYTES);
  const { ctl, clock, bytes } = sharedView(shared);
  const job: WorkerJob = { name: target.name, iterations, seed, timeBudgetMs, shared };
  ctl[0] = -1;
  // Node 20 does not hand `--import tsx` to worker threads: the worker registers tsx itself.
  const entry = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}); })`;
  const worker = new Worker(entry, { eval: true, workerData: job, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
  const started = Date.now();
  let last = emptyStats(target.name, seed);
  return new Promise((resolve) => {
    let settled = false;
    const current = (): Finding['input'] => Buffer.from(bytes.subarray(0, ctl[1]));
    const finish = (stats: FuzzStats, stop = false): void => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      // A worker that reported ends by itself; only a stuck one is stopped.
      if (stop) void worker.terminate();
      resolve(stats);
    };
    const lost = (kind: Finding['kind'], summary: string, detail = ''): void => {
      const s = { ...last, elapsedMs: Date.now() - started, stoppedBy: 'findings' as const };
      const index = Atomics.load(ctl, 0);
      if (kind === 'crash') s.crashes++;
      else s.hangs++;
      const where = index < 0 ? ' (before the first input: in setup)' : '';
      s.findings = [...s.findings, { kind, index: Math.max(0, index), input: current(), summary: summary + where, detail: `${detail}\n(input bytes kept: ${ctl[1]} of ${ctl[2]})` }];
      s.iterations = Math.max(s.iterations, index + 1);
      finish(s, kind === 'hang');
    };
    const bound = Math.max(WATCHDOG_MIN_MS, 10 * target.timeBoundMs);
    const watchdog = setInterval(() => {
      const t = clock[0];
      if (t > 0 && Date.now() - t > bound) lost('hang', `input still running after ${Date.now() - t} ms (watchdog at ${bound} ms); the worker was stopped`);
    }, 250);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') {
        last = m.stats;
        onProgress(m.stats);
      } else {
        finish({ ...m.stats, findings: m.stats.findings.map((f) => ({ ...f, input: Buffer.from(f.input) })) });
      }
    });
    worker.on('error', (err) => lost('crash', `the worker died: ${err.name}: ${err.message.split('\n')[0]}`, err.stack ?? ''));
    worker.on('exit', (code) => {
      if (!settled) lost('crash', `the worker exited with code ${code} before reporting`);
    });
  });
}

async function replay(target: FuzzTarget, file: string): Promise<number> {
  const input = readFileSync(file);
  await target.setup?.();
  try {
    const r = await runOne(target, input);
    console.log(`${target.name}: ${r.verdict} in ${r.ms.toFixed(1)} ms (${input.length} bytes)`);
    return r.ms > target.timeBoundMs ? 1 : 0;
  } catch (err) {
    console.log(`${target.name}: crash`);
    console.log(err instanceof Error ? err.stack : String(err));
    return 1;
  } finally {
    await target.teardown?.();
  }
}

function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
}

function printTable(all: FuzzStats[]): void {
  const widths = [20, 11, 10, 10, 7, 5, 9, 11, 10];
  console.log(row(['target', 'inputs', 'accepted', 'rejected', 'crashes', 'hangs', 'inputs/s', 'slowest ms', 'stopped by'], widths));
  let n = 0;
  let ms = 0;
  for (const s of all) {
    n += s.iterations;
    ms += s.elapsedMs;
    const rate = s.elapsedMs > 0 ? Math.round((s.iterations * 1000) / s.elapsedMs) : 0;
    console.log(row([s.target, s.iterations, s.accepted, s.rejected, s.crashes, s.hangs, rate, s.slowestMs.toFixed(1), s.stoppedBy], widths));
  }
  const crashes = all.reduce((x, s) => x + s.crashes, 0);
  const hangs = all.reduce((x, s) => x + s.hangs, 0);
  console.log(row(['total', n, '', '', crashes, hangs, '', '', `${(ms / 1000).toFixed(0)} s`], widths));
}

interface Report {
  seed: number;
  date: string;
  node: string;
  cpu?: string;
  cores: number;
  wallSeconds: number;
  targets: FuzzStats[];
}

function writeReport(file: string, seed: number, started: number, results: FuzzStats[]): void {
  const targets = results.map((s) => ({ ...s, findings: s.findings.map((f) => ({ kind: f.kind, index: f.index, summary: f.summary, input: Buffer.alloc(0), detail: '' })) }));
  const report: Report = { seed, date: new Date(started).toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, wallSeconds: (Date.now() - started) / 1000, targets };
  writeFileSync(file, JSON.stringify(report, null, 2));
}

/** One target in this process: a worker thread under the watchdog; findings saved to files. */
async function runHere(t: FuzzTarget, iterations: number, seed: number, budgetMs: number | undefined): Promise<FuzzStats> {
  let lastPrint = Date.now();
  const r = await runInWorker(t, iterations, seed, budgetMs, (s) => {
    if (Date.now() - lastPrint < 10_000) return;
    lastPrint = Date.now();
    console.error(`  ${t.name}: ${s.iterations} inputs, ${s.crashes} crashes, ${s.hangs} hangs, ${Math.round((s.iterations * 1000) / Math.max(1, s.elapsedMs))}/s`);
  });
  console.error(`done ${t.name}: ${r.iterations} inputs in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.crashes} crashes, ${r.hangs} hangs`);
  for (const f of r.findings) {
    const file = saveFinding(f, t.name, seed);
    console.log(`  ${f.kind} #${f.index} in ${t.name}: ${f.summary}\n    saved as ${file}`);
  }
  return r;
}

/** One target in a child process (this script with one --target); a child that dies is a crash. */
function runChild(t: FuzzTarget, iterations: number, seed: number, budgetMs: number | undefined, dir: string): Promise<FuzzStats> {
  const report = join(dir, `${t.name}.json`);
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', '--target', t.name, '--iterations', String(iterations), '--seed', String(seed), '--report', report];
  if (budgetMs !== undefined) args.push('--budget-ms', String(Math.round(budgetMs)));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code, signal) => {
      try {
        resolve((JSON.parse(readFileSync(report, 'utf8')) as Report).targets[0]);
      } catch {
        const s = emptyStats(t.name, seed);
        s.crashes = 1;
        s.stoppedBy = 'findings';
        s.findings = [{ kind: 'crash', index: 0, input: Buffer.alloc(0), summary: `the fuzz process died (code ${code}, signal ${signal}) without a report`, detail: '' }];
        console.log(`  crash in ${t.name}: ${s.findings[0].summary}`);
        resolve(s);
      }
    });
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string' },
      target: { type: 'string', multiple: true },
      seed: { type: 'string' },
      seconds: { type: 'string' },
      jobs: { type: 'string' },
      report: { type: 'string' },
      replay: { type: 'string' },
      list: { type: 'boolean' },
      // Internal: a child process running one target for a parent run.
      child: { type: 'boolean' },
      'budget-ms': { type: 'string' },
    },
  });
  if (values.list) {
    for (const t of TARGETS) console.log(`${t.name.padEnd(20)} weight ${String(t.weight).padStart(4)}  ${t.description}`);
    return 0;
  }
  const names = (values.target ?? []).flatMap((t) => t.split(',')).filter(Boolean);
  let targets: FuzzTarget[];
  try {
    targets = names.length ? names.map(targetByName) : [...TARGETS];
  } catch (err) {
    usage((err as Error).message);
  }
  if (values.replay) {
    if (targets.length !== 1) usage('--replay needs exactly one --target');
    return replay(targets[0], values.replay);
  }
  const opts: Options = {
    iterations: positiveInt(values.iterations, '--iterations', 100_000),
    targets,
    seed: positiveInt(values.seed, '--seed', Date.now() % 0x7fffffff),
    seconds: values.seconds === undefined ? undefined : positiveInt(values.seconds, '--seconds', 0),
    jobs: Math.max(1, positiveInt(values.jobs, '--jobs', 1)),
    report: values.report,
  };
  const started = Date.now();
  if (values.child) {
    const budget = values['budget-ms'] === undefined ? undefined : positiveInt(values['budget-ms'], '--budget-ms', 0);
    const r = await runHere(targets[0], opts.iterations, opts.seed, budget);
    if (opts.report) writeReport(opts.report, opts.seed, started, [r]);
    return r.crashes > 0 || r.hangs > 0 ? 1 : 0;
  }
  const perTarget = names.length === 1 ? [opts.iterations] : shares(opts.iterations, targets);
  console.log(`fuzz: ${opts.iterations} inputs over ${targets.length} targets, seed ${opts.seed}${opts.seconds ? `, at most ${opts.seconds} s` : ''}, ${opts.jobs} at a time`);
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'} x${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString()}`);

  const dir = mkdtempSync(join(tmpdir(), 'apogee-fuzz-run-'));
  const results: FuzzStats[] = new Array<FuzzStats>(targets.length);
  let next = 0;
  let running = 0;
  const lane = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++;
      // An even slice of the time left, shared by the targets not yet finished.
      const left = opts.seconds === undefined ? undefined : opts.seconds * 1000 - (Date.now() - started);
      const budget = left === undefined ? undefined : Math.max(1000, (left * opts.jobs) / (targets.length - i + running));
      running++;
      results[i] = await runChild(targets[i], perTarget[i], opts.seed, budget, dir);
      running--;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.jobs, targets.length) }, lane));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('');
  printTable(results);
  if (opts.report) writeReport(opts.report, opts.seed, started, results);
  return results.some((s) => s.crashes > 0 || s.hangs > 0) ? 1 : 0;
}

process.exitCode = await main();
