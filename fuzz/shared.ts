// What the runner and its worker threads share: the job, the messages, and the layout of the
// memory through which the watchdog sees the input being run.
import type { FuzzStats } from './engine.js';

export interface WorkerJob {
  name: string;
  iterations: number;
  seed: number;
  timeBudgetMs?: number;
  shared: SharedArrayBuffer;
}

export type WorkerMessage = { type: 'progress'; stats: FuzzStats } | { type: 'done'; stats: FuzzStats };

/** int32 index, int32 stored length, int32 real length, pad, float64 start (ms, 0 = no input running), then the input. */
export const SHARED_HEADER = 24;
export const SHARED_INPUT_BYTES = 64 * 1024;

export interface SharedView {
  ctl: Int32Array;
  clock: Float64Array;
  bytes: Uint8Array;
}

export function sharedView(shared: SharedArrayBuffer): SharedView {
  return { ctl: new Int32Array(shared, 0, 4), clock: new Float64Array(shared, 16, 1), bytes: new Uint8Array(shared, SHARED_HEADER) };
}
