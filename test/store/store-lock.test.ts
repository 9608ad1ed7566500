// Issue 10: a SIGKILLed standalone could not restart on its own data directory while the killed
// process was left unreaped (a zombie still answers kill(pid, 0)) or while the lock file named a
// pid that an unrelated live process had since taken. The lock is now a kernel flock.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { acquireStoreLock, StoreLockedError } from '../../src/store/store-lock.js';
import { checkFor } from '../helpers/check-for.js';
import { runApogee, spawnApogee } from '../helpers/spawn-apogee.js';
import { tempDir } from '../helpers/temp-dir.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function standaloneArgs(dataDir: string): string[] {
  return ['standalone', '--listenPort=0', '--namesrvPort=0', '--grpcServerPort=0', '--httpPort=0', '--host=127.0.0.1', '--brokerIP1=127.0.0.1', '--storePathRootDir', dataDir];
}

function processState(pid: number): string | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/**
 * Starts the broker under a parent that never reaps it: `sh` backgrounds the broker, prints its
 * pid, then becomes `sleep`, which does not wait for children. Killing the broker leaves a zombie.
 */
async function startUnderNonReapingParent(dataDir: string): Promise<{ parent: ChildProcess; brokerPid: number; output: () => string }> {
  const cmd = `"${process.execPath}" bin/apogee.js ${standaloneArgs(dataDir)
    .map((a) => `'${a}'`)
    .join(' ')} & echo "broker-pid=$!"; exec sleep 120`;
  const parent = spawn('sh', ['-c', cmd], { cwd: ROOT, env: { ...process.env, APOGEE_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  parent.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  parent.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  await checkFor(30_000, 50, () => /apogee ready:/.test(out) || undefined);
  const brokerPid = Number(/broker-pid=(\d+)/.exec(out)?.[1]);
  assert.ok(brokerPid > 0, out);
  return { parent, brokerPid, output: () => out };
}

void test('store lock - issue 10: a SIGKILLed broker left unreaped does not block the restart on the same directory', async () => {
  using dir = tempDir('apogee-lock-');
  const dataDir = join(dir.path, 'data');
  const { parent, brokerPid } = await startUnderNonReapingParent(dataDir);
  try {
    process.kill(brokerPid, 'SIGKILL');
    await checkFor(5_000, 20, () => processState(brokerPid) === 'Z' || undefined);
    // The report's condition: the dead broker still answers signal 0.
    assert.doesNotThrow(() => process.kill(brokerPid, 0));
    await using again = await spawnApogee(standaloneArgs(dataDir));
    assert.ok(again.addresses.broker, 'restarted broker is ready');
  } finally {
    parent.kill('SIGKILL');
  }
});

void test('store lock - issue 10: a lock file naming a live unrelated pid does not block the restart', async () => {
  using dir = tempDir('apogee-lock-');
  const dataDir = join(dir.path, 'data');
  {
    await using first = await spawnApogee(standaloneArgs(dataDir));
    await first.stop('SIGKILL');
  }
  const unrelated = spawn('sleep', ['120'], { stdio: 'ignore' });
  try {
    // The old lock format: nothing but a pid, here one that is alive and not a broker.
    writeFileSync(join(dataDir, 'lock'), String(unrelated.pid));
    await using again = await spawnApogee(standaloneArgs(dataDir));
    assert.ok(again.addresses.broker, 'restarted broker is ready');
  } finally {
    unrelated.kill('SIGKILL');
  }
});

void test('store lock - a second live broker on the same directory is refused, naming the directory and the holder', async () => {
  using dir = tempDir('apogee-lock-');
  const dataDir = join(dir.path, 'data');
  await using first = await spawnApogee(standaloneArgs(dataDir));
  const second = await runApogee(standaloneArgs(dataDir), { timeoutMs: 30_000 });
  assert.notEqual(second.code, 0);
  assert.doesNotMatch(second.stdout, /apogee ready:/);
  assert.match(second.stderr, /failed to start: store .*data.* is locked by a running process/);
  assert.match(second.stderr, new RegExp(`pid=${first.child.pid}\\b`), 'the refusal names the holder');
  assert.ok(first.addresses.broker);
});

void test('store lock - in one process: a second open is refused, release lets the next one in, and the holder is recorded', () => {
  using dir = tempDir('apogee-lock-');
  const path = join(dir.path, 'lock');
  const release = acquireStoreLock(path);
  assert.match(readFileSync(path, 'utf8'), new RegExp(`^pid=${process.pid} started=\\S+ host=`));
  assert.throws(() => acquireStoreLock(path), (err: unknown) => err instanceof StoreLockedError && /already open in this process/.test(err.message));
  release();
  release(); // idempotent
  const again = acquireStoreLock(path);
  again();
});
