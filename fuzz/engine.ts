// Runs one target over a seeded stream of inputs: the seeds themselves and every truncation of
// them, structure-aware inputs from the target's generator, and stacked mutations of seeds and of
// earlier accepted mutants. Counts verdicts, times every input, and keeps the inputs that crashed
// or hung. The same target, seed and iteration count give the same inputs.
import { performance } from 'node:perf_hooks';
import { mutate, type MutateOptions } from './mutator.js';
import { Rand, subSeed } from './rand.js';
import type { FuzzTarget, Verdict } from './target.js';

export interface Finding {
  kind: 'crash' | 'hang';
  /** 0-based index of the input in the target's stream. */
  index: number;
  input: Buffer;
  /** First line of the error (crash) or the time taken (hang). */
  summary: string;
  /** Stack trace of a crash. */
  detail: string;
}

export interface FuzzStats {
  target: string;
  seed: number;
  iterations: number;
  accepted: number;
  rejected: number;
  crashes: number;
  hangs: number;
  elapsedMs: number;
  slowestMs: number;
  stoppedBy: 'iterations' | 'time' | 'findings';
  /** Distinct findings (one per summary), at most maxFindings. */
  findings: Finding[];
}

export interface EngineOptions {
  iterations: number;
  seed: number;
  /** Stop after this much wall-clock time even if iterations remain. */
  timeBudgetMs?: number;
  /** Stop once this many distinct findings are kept (default 20). */
  maxFindings?: number;
  /** Called before each input runs (the worker's watchdog records it). */
  onInput?(index: number, input: Buffer): void;
  /** Called about once a second with the counts so far. */
  onProgress?(stats: FuzzStats): void;
}

const POOL_SIZE = 256;

class InputStream {
  private readonly r: Rand;
  private readonly seeds: Buffer[];
  private readonly systematic: Buffer[] = [];
  private sysNext = 0;
  private readonly pool: Buffer[] = [];
  private readonly opts: MutateOptions;

  constructor(
    private readonly target: FuzzTarget,
    seed: number,
  ) {
    this.r = new Rand(subSeed(seed, target.name));
    this.seeds = target.seeds();
    if (this.seeds.length === 0) throw new Error(`fuzz target ${target.name} has no seeds`);
    this.opts = { maxLength: target.maxInputLength, dictionary: target.dictionary?.() ?? [] };
    // Every seed as it is, then cut at every offset (a torn read or a short frame), longest first.
    for (const s of this.seeds) this.systematic.push(s);
    for (const s of this.seeds) {
      const step = Math.max(1, Math.floor(s.length / 4096));
      for (let n = s.length - 1; n >= 0; n -= step) this.systematic.push(s.subarray(0, n));
    }
  }

  next(index: number): Buffer {
    // One input in four comes from the systematic list until it is used up.
    if (index % 4 === 0 && this.sysNext < this.systematic.length) return this.systematic[this.sysNext++];
    const r = this.r;
    if (this.target.generate && r.chance(0.25)) return this.target.generate(r);
    const base = this.pool.length > 0 && r.chance(0.3) ? r.pick(this.pool) : r.pick(this.seeds);
    return mutate(r, base, () => r.pick(this.seeds), this.opts);
  }

  /** Accepted mutants are kept as bases: they are valid, yet already off the seeds' beaten path. */
  accepted(input: Buffer): void {
    if (!this.r.chance(1 / 8)) return;
    if (this.pool.length < POOL_SIZE) this.pool.push(input);
    else this.pool[this.r.int(POOL_SIZE)] = input;
  }
}

function describeError(err: unknown): { summary: string; detail: string } {
  if (err instanceof Error) {
    const first = `${err.name}: ${err.message.split('\n')[0]}`.slice(0, 300);
    return { summary: first, detail: err.stack ?? first };
  }
  return { summary: `non-Error thrown: ${String(err).slice(0, 200)}`, detail: String(err) };
}

interface Outcome {
  verdict?: Verdict;
  error?: unknown;
  ms: number;
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === 'function';
}

/** Runs the target (already set up) over opts.iterations inputs or until the time budget is spent. */
export async function runTarget(target: FuzzTarget, opts: EngineOptions): Promise<FuzzStats> {
  const stats: FuzzStats = {
    target: target.name,
    seed: opts.seed,
    iterations: 0,
    accepted: 0,
    rejected: 0,
    crashes: 0,
    hangs: 0,
    elapsedMs: 0,
    slowestMs: 0,
    stoppedBy: 'iterations',
    findings: [],
  };
  const stream = new InputStream(target, opts.seed);
  const maxFindings = opts.maxFindings ?? 20;
  const seen = new Set<string>();
  const record = (f: Finding): void => {
    const key = `${f.kind} ${f.summary.replace(/\d+/g, 'N')}`;
    if (seen.has(key)) return;
    seen.add(key);
    stats.findings.push(f);
  };
  const start = performance.now();
  const deadline = opts.timeBudgetMs === undefined ? Infinity : start + opts.timeBudgetMs;
  let nextProgress = start + 1000;
  // Synchronous targets stay synchronous: an await per input would cost the fast ones half their speed.
  const once = (input: Buffer): Outcome | Promise<Outcome> => {
    const t0 = performance.now();
    try {
      const v = target.run(input);
      if (!isPromise(v)) return { verdict: v, ms: performance.now() - t0 };
      return v.then(
        (verdict) => ({ verdict, ms: performance.now() - t0 }),
        (error: unknown) => ({ error, ms: performance.now() - t0 }),
      );
    } catch (error) {
      return { error, ms: performance.now() - t0 };
    }
  };
  for (let i = 0; i < opts.iterations; i++) {
    const input = stream.next(i);
    opts.onInput?.(i, input);
    let first = once(input);
    let res = isPromise(first) ? await first : first;
    if (res.ms > target.timeBoundMs && res.error === undefined) {
      // A pause of the whole process (GC, a busy neighbour) is not the input's fault: only an
      // input that is slow twice in a row is a hang.
      first = once(input);
      const again = isPromise(first) ? await first : first;
      if (again.ms > target.timeBoundMs) {
        stats.hangs++;
        record({ kind: 'hang', index: i, input, summary: `input took ${Math.round(res.ms)} ms then ${Math.round(again.ms)} ms (bound ${target.timeBoundMs} ms)`, detail: '' });
      }
      res = again.ms < res.ms ? again : res;
    }
    stats.iterations++;
    if (res.ms > stats.slowestMs) stats.slowestMs = res.ms;
    if (res.error !== undefined) {
      stats.crashes++;
      record({ kind: 'crash', index: i, input, ...describeError(res.error) });
    } else if (res.verdict === 'accepted') {
      stats.accepted++;
      stream.accepted(input);
    } else {
      stats.rejected++;
    }
    if (stats.findings.length >= maxFindings) {
      stats.stoppedBy = 'findings';
      break;
    }
    // Progress and the deadline are looked at every 64 inputs.
    if ((i & 63) === 0) {
      const now = performance.now();
      if (now >= deadline) {
        if (i + 1 < opts.iterations) stats.stoppedBy = 'time';
        break;
      }
      if (now >= nextProgress) {
        nextProgress = now + 1000;
        stats.elapsedMs = now - start;
        opts.onProgress?.(stats);
      }
    }
  }
  stats.elapsedMs = performance.now() - start;
  return stats;
}

/** Runs one input alone (replay of a saved crash); returns the verdict or throws what the target threw. */
export async function runOne(target: FuzzTarget, input: Buffer): Promise<{ verdict: Verdict; ms: number }> {
  const t0 = performance.now();
  const verdict = await target.run(input);
  return { verdict, ms: performance.now() - t0 };
}
