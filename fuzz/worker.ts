// One target in a worker thread. Before each input it writes the input, its index and the time to
// memory shared with the runner, so a watchdog on the main thread can tell a hang, stop the
// thread, and still know which input did it.
import { parentPort, workerData } from 'node:worker_threads';
import { runTarget, type FuzzStats } from './engine.js';
import { sharedView, type WorkerJob, type WorkerMessage } from './shared.js';
import { targetByName } from './targets/index.js';

const job = workerData as WorkerJob;
const { ctl, clock, bytes } = sharedView(job.shared);
const target = targetByName(job.name);

await target.setup?.();
let stats: FuzzStats;
try {
  stats = await runTarget(target, {
    iterations: job.iterations,
    seed: job.seed,
    timeBudgetMs: job.timeBudgetMs,
    onInput(index, input) {
      const n = Math.min(input.length, bytes.length);
      bytes.set(input.subarray(0, n));
      ctl[1] = n;
      ctl[2] = input.length;
      clock[0] = Date.now();
      Atomics.store(ctl, 0, index);
    },
    onProgress(s) {
      parentPort!.postMessage({ type: 'progress', stats: { ...s, findings: [] } } satisfies WorkerMessage);
    },
  });
} finally {
  // Setup and teardown are not inputs: the watchdog looks away.
  clock[0] = 0;
  await target.teardown?.();
}
parentPort!.postMessage({ type: 'done', stats } satisfies WorkerMessage);
// Whatever a target left open (a gRPC channel closing, a timer) must not keep the thread.
process.exit(0);
