import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeMessage, decodeMessages, getPropertyFromString } from '../../src/common/index.js';
import { GetMessageStatus, MessageStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { CRASH_STORE_CONFIG, crashBody } from './fixtures/crash-shared.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/crash-appender.ts', import.meta.url));
const KILLS = 20;

interface Ack {
  queueId: number;
  queueOffset: number;
  phy: number;
  key: string;
}

/** Runs the appender, SIGKILLs it after `delayMs` past its ready line, returns the acks it printed. */
function runAndKill(dir: string, runId: number, delayMs: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir, String(runId), '128'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let err = '';
    let ready = false;
    const acks: Ack[] = [];
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (err += d));
    child.stdout.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'ready' && !ready) {
          ready = true;
          setTimeout(() => child.kill('SIGKILL'), delayMs);
        } else if (line.startsWith('ack ')) {
          const [, q, o, p, key] = line.split(' ');
          acks.push({ queueId: Number(q), queueOffset: Number(o), phy: Number(p), key });
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`appender exited early (code ${code}, signal ${signal}): ${err}`));
      else resolve(acks);
    });
  });
}

async function checkAcks(store: MessageStore, acks: Ack[]): Promise<void> {
  for (const a of acks) {
    const g = await store.getMessage('Crash', a.queueId, a.queueOffset, 1);
    assert.equal(g.status, GetMessageStatus.FOUND, `${a.key} via its consume queue`);
    const m = decodeMessage(g.buffers[0]);
    assert.equal(m.commitLogOffset, a.phy, a.key);
    assert.equal(getPropertyFromString(m.properties, 'KEYS'), a.key);
    assert.deepEqual(Buffer.from(m.body), crashBody(a.key), `${a.key} body`);
    const q = await store.queryMessage('Crash', a.key, 2, 0, Number.MAX_SAFE_INTEGER);
    assert.deepEqual(q.buffers.map((b) => decodeMessage(b).commitLogOffset), [a.phy], `${a.key} via the index`);
  }
}

/** Every queue holds only whole, CRC-clean records, without gaps. */
async function checkNothingHalfWritten(store: MessageStore): Promise<number> {
  let total = 0;
  for (const q of store.getQueueIds('Crash')) {
    const max = store.getMaxOffsetInQueue('Crash', q);
    let off = store.getMinOffsetInQueue('Crash', q);
    while (off < max) {
      const g = await store.getMessage('Crash', q, off, 256, 1 << 24);
      assert.equal(g.status, GetMessageStatus.FOUND);
      const msgs = decodeMessages(Buffer.concat(g.buffers));
      msgs.forEach((m, k) => {
        assert.equal(m.queueOffset, off + k);
        assert.deepEqual(Buffer.from(m.body), crashBody(getPropertyFromString(m.properties, 'KEYS')!));
      });
      total += msgs.length;
      off = g.nextBeginOffset;
    }
  }
  return total;
}

test('store crash - SIGKILL under SYNC_FLUSH never loses an acknowledged message', { timeout: 120_000 }, async () => {
  using dir = tempDir();
  const all: Ack[] = [];
  let cut = 0;
  for (let run = 0; run < KILLS; run++) {
    const delay = run % 5 === 0 ? 0 : Math.floor(Math.random() * 250);
    const acks = await runAndKill(dir.path, run, delay);
    all.push(...acks);
    const store = await MessageStore.open({ storePathRootDir: dir.path, ...CRASH_STORE_CONFIG });
    try {
      assert.equal(store.recovery.abnormal, true);
      cut += store.recovery.commitLog.truncatedBytes;
      await checkAcks(store, acks);
      if (run === KILLS - 1) {
        const total = await checkNothingHalfWritten(store);
        assert.ok(total >= all.length, `${total} records in queues, ${all.length} acknowledged`);
        await checkAcks(store, all.filter((_, i) => i % 7 === 0));
      }
    } finally {
      await store.crashForTest();
    }
  }
  assert.ok(all.length > KILLS * 10, `enough acks to mean something: ${all.length}`);
  // The diagnostic shows the test actually hit torn tails at least sometimes.
  process.stdout.write(`# crash test: ${all.length} acks over ${KILLS} kills, ${cut} torn bytes cut\n`);
});
