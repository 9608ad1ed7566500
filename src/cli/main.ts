// Entry point of the `apogee` command (bin/apogee.js loads this file).
import { closeAll, runCli, type Running } from './program.js';

/** A stuck shutdown must not hang the process forever. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

let running: Running | undefined;
let pendingSignal: NodeJS.Signals | undefined;
let stopping = false;

function exitAfterFlush(code: number): void {
  if (!running) process.exit(code);
  running.logger.flush(() => process.exit(code));
}

function stop(signal: NodeJS.Signals): void {
  // Handlers are installed before startup so a signal right after the ready line is never lost.
  if (!running) {
    if (pendingSignal) process.exit(1); // a second signal during startup: give up at once
    pendingSignal = signal;
    return;
  }
  if (stopping) return;
  stopping = true;
  const r = running;
  r.logger.info({ signal }, 'shutting down');
  setTimeout(() => {
    r.logger.error('shutdown timed out');
    exitAfterFlush(1);
  }, SHUTDOWN_TIMEOUT_MS).unref();
  closeAll(r.handles).then(
    () => exitAfterFlush(0),
    (err: unknown) => {
      r.logger.error({ err }, 'shutdown failed');
      exitAfterFlush(1);
    },
  );
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);

const result = await runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
}).catch((err: unknown) => {
  process.stderr.write(`apogee: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
});

if (typeof result === 'number') {
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  process.exitCode = result;
} else {
  running = result;
  if (pendingSignal) stop(pendingSignal);
}
