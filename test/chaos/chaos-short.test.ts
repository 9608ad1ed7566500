// Issue 10: a few chaos rounds in CI (the long run is `npm run chaos`, see docs/RELIABILITY.md).
// The real `apogee standalone` under SYNC_FLUSH, driven by ali-ons, SIGKILLed as a process group
// in each form of the report (reaped, left a zombie, lock file naming a live unrelated pid),
// restarted on the same directory, then SIGSTOPped and continued.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeBody } from '../../scripts/chaos/body.js';
import { OnsProducer, type Ack } from '../../scripts/chaos/load.js';
import { seededRng } from '../../scripts/chaos/random.js';
import { runChaos, DEFAULT_OPTIONS } from '../../scripts/chaos/run.js';
import { scanTopic, tally } from '../../scripts/chaos/verify.js';
import { createTopic } from '../compat/helpers/ali-ons.js';
import { startStandalone } from '../helpers/standalone.js';

void test('chaos - issue 10: SIGKILL rounds in every form and a SIGSTOP round lose and corrupt nothing acknowledged', async () => {
  const lines: string[] = [];
  const s = await runChaos({
    ...DEFAULT_OPTIONS,
    mode: 'all',
    rounds: 4,
    stopEvery: 4,
    skipDiskFull: true,
    // A bound for a very slow machine only: 4 rounds take ~25 s on an idle 2-core box.
    seconds: 180,
    // Seed 2 draws a kill during recovery in the first three rounds (decisions replay from the seed).
    seed: 2,
    delayMinMs: 600,
    delayMaxMs: 1500,
    concurrency: 8,
    stopMs: 2000,
    recoveryKillShare: 0.5,
    log: (l) => lines.push(l),
  });
  const report = `${lines.join('\n')}\nfailures: ${s.failures.join('\n')}`;
  assert.deepEqual(s.failures, [], report);
  assert.deepEqual(
    s.rounds.map((r) => r.form),
    ['group', 'zombie', 'stale-lock', 'stop'],
    report,
  );
  for (const r of s.rounds) {
    assert.ok(r.acked > 0, `round ${r.round} acknowledged sends before its ${r.kind}\n${report}`);
    assert.equal(r.lost + r.corrupt + r.misplaced, 0, report);
  }
  assert.ok(s.rounds.some((r) => r.recoveryKillAtMs !== undefined), `one restart was killed while recovering\n${report}`);
  assert.ok(s.rounds[3].resumeMs !== undefined, `the stopped broker served again\n${report}`);
  assert.ok(s.restartMs.length >= 3, report);
  // Everything acknowledged over all rounds, read once more from offset 0 after the last one.
  assert.equal(s.final?.acked, s.acked);
  assert.deepEqual([s.final?.lost, s.final?.corrupt, s.final?.misplaced], [[], [], []], report);
  assert.equal(s.shutdownCode, 0, 'the last broker shut down cleanly on SIGTERM');
});

void test('chaos - the read-back reports a lost, a duplicated, a corrupt and a misplaced message', async () => {
  await using sa = await startStandalone();
  const topic = 'ChaosCheckTopic';
  await createTopic(sa, topic, 1);
  const p = await OnsProducer.open(sa.namesrvAddr, 'CHAOS_CHECK_P');
  const acks: Ack[] = [];
  try {
    const rng = seededRng(1);
    const send = async (body: Buffer): Promise<{ queueId: number; queueOffset: number; msgId: string }> => {
      const r = await p.send(topic, body);
      assert.equal(r.sendStatus, 'SEND_OK');
      return r;
    };
    const whole = makeBody(1, 0, rng);
    acks.push({ id: '1-0', round: 1, ...(await send(whole)) });
    const twice = makeBody(1, 1, rng);
    acks.push({ id: '1-1', round: 1, ...(await send(twice)) });
    await send(twice);
    const bent = makeBody(1, 2, rng);
    bent[20] ^= 1;
    acks.push({ id: '1-2', round: 1, ...(await send(bent)) });
    const moved = await send(makeBody(1, 3, rng));
    acks.push({ id: '1-3', round: 1, ...moved, queueOffset: moved.queueOffset + 10 });
    acks.push({ id: '1-4', round: 1, queueId: 0, queueOffset: 99, msgId: 'never-sent' });
  } finally {
    await p.close();
  }
  const t = tally(acks, await scanTopic(sa.brokerAddr, topic, 1, [], Date.now() + 10_000));
  // The bent body is unreadable as a chaos body, so its id is also missing.
  assert.deepEqual(t.lost, ['1-2', '1-4']);
  assert.equal(t.duplicated, 1);
  assert.equal(t.corrupt.length, 1);
  assert.match(t.corrupt[0], /^q0@3: digest mismatch/);
  assert.deepEqual(t.misplaced, ['1-3 acked at 0@14, stored at 0@4']);
});
