// Issue 11: `apogee proxy` (cluster mode) must not load the broker or the store. The real command
// runs from source with a module hook that logs every module it resolves; after it has served a
// send from the real 5.x producer, no logged module may be under src/broker/ or src/store/.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReadyLine } from '../helpers/spawn-apogee.js';
import { startStandalone } from '../helpers/standalone.js';
import { createTopic, GrpcClients } from '../compat/helpers/grpc.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = pathToFileURL(join(ROOT, 'src')).href + '/';
const HOOK = fileURLToPath(new URL('./fixtures/import-log.mjs', import.meta.url));
const READY_RE = /^apogee ready:.*$/m;

/** Runs `apogee <args>` from source with the import log on; resolves with its ready line. */
function spawnLogged(args: string[], logPath: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', HOOK, join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, APOGEE_IMPORT_LOG: logPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after 30 s:\n${err}`)), 30_000);
    child.stdout.on('data', () => {
      const m = READY_RE.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before ready:\n${err}`));
    });
  });
  return { child, ready, exited };
}

/** The import chain from the entry point to url, for the failure message. */
function chainTo(url: string, parentOf: Map<string, string>): string {
  const chain = [url];
  for (let u = parentOf.get(url); u && !chain.includes(u) && chain.length < 50; u = parentOf.get(u)) chain.unshift(u);
  return chain.map((u) => u.replace(SRC, 'src/')).join(' → ');
}

test('cluster proxy - apogee proxy serves a send without loading any module of src/broker or src/store (issue 11)', async () => {
  await using s = await startStandalone();
  await createTopic(s, 'ImportsTopic', 'NORMAL');
  const dir = mkdtempSync(join(tmpdir(), 'apogee-imports-'));
  const logPath = join(dir, 'imports.log');
  const p = spawnLogged(['proxy', '-n', s.namesrvAddr, '--grpcServerPort=0', '--httpPort=0', '--host=127.0.0.1'], logPath);
  try {
    const grpcAddr = parseReadyLine(await p.ready).grpc;
    assert.ok(grpcAddr, 'the ready line names the gRPC endpoint');
    const clients = new GrpcClients(grpcAddr);
    try {
      const producer = await clients.producer('ImportsTopic');
      const sent = await producer.send({ topic: 'ImportsTopic', body: Buffer.from('through apogee proxy') });
      assert.ok(sent.messageId, 'the proxy process served the send');
    } finally {
      await clients.close();
    }
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, 'apogee proxy stops cleanly on SIGTERM');
  } finally {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
  }

  const parentOf = new Map<string, string>();
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    const [parent, url] = line.split('\t');
    if (url && !parentOf.has(url)) parentOf.set(url, parent);
  }
  rmSync(dir, { recursive: true, force: true });
  // The log is only worth something if it saw the proxy's own modules being loaded.
  for (const mod of ['proxy/cluster-proxy.ts', 'proxy/backend/remote-backend.ts', 'proxy/grpc-server.ts', 'proxy/send-activity.ts', 'proxy/receive-activity.ts']) {
    assert.ok(parentOf.has(SRC + mod), `the import log lists src/${mod}`);
  }
  const forbidden = [...parentOf.keys()].filter((u) => u.startsWith(SRC + 'broker/') || u.startsWith(SRC + 'store/'));
  assert.deepEqual(
    forbidden.map((u) => chainTo(u, parentOf)),
    [],
    'modules of src/broker or src/store loaded by apogee proxy (move what they share to src/remoting/protocol or src/common)',
  );
});
