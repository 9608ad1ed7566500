// topics.json grows by a journal of changes (issue 17): a creation is one appended line, the
// journal folds into a new snapshot once it outgrows it, a torn last line is ignored, and a topic
// acknowledged by UPDATE_AND_CREATE_TOPIC survives a SIGKILL of the real broker process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/logger.js';
import { ConfigJournal } from '../../src/broker/config-journal.js';
import { TopicConfigManager } from '../../src/broker/topic-config-manager.js';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { spawnApogee } from '../helpers/spawn-apogee.js';
import { tempDir } from '../helpers/temp-dir.js';

function manager(configDir: string): TopicConfigManager {
  const m = new TopicConfigManager({ configDir, brokerName: 'b', clusterName: 'c', autoCreateTopicEnable: false, defaultTopicQueueNums: 4, delayLevelCount: 18, logger: silentLogger });
  m.load();
  return m;
}

void test('topic config journal - a creation appends one line and a restart without a flush replays it', async () => {
  using dir = tempDir('apogee-journal-');
  const m = manager(dir.path);
  m.updateTopicConfig({ topicName: 'A', readQueueNums: 8, writeQueueNums: 8, perm: 6 } as never);
  await m.written();
  const log = readFileSync(join(dir.path, 'topics.json.log'), 'utf8');
  assert.equal(log.split('\n').filter(Boolean).length, 1);
  assert.equal(existsSync(join(dir.path, 'topics.json')), false, 'no whole-table rewrite for one creation');
  m.updateTopicConfig({ topicName: 'B', readQueueNums: 2, writeQueueNums: 2, perm: 6 } as never);
  m.deleteTopicConfig('A');
  await m.written();
  const again = manager(dir.path);
  assert.equal(again.selectTopicConfig('A'), undefined);
  assert.equal(again.selectTopicConfig('B')?.writeQueueNums, 2);
  assert.ok(again.dataVersion.counter >= 2, 'the replayed changes move the data version on');
  await m.flush();
  await again.flush();
});

void test('topic config journal - the journal folds into topics.json once it outgrows it, and flush empties it', async () => {
  using dir = tempDir('apogee-journal-');
  const path = join(dir.path, 'topics.json');
  const state = new Map<string, number>();
  const j = new ConfigJournal(path, () => ({ topicConfigTable: Object.fromEntries(state) }), silentLogger, { minFoldBytes: 4096 });
  j.load();
  for (let i = 0; i < 2000; i++) {
    state.set(`T${i}`, i);
    j.record({ put: { topicName: `T${i}`, n: i } });
    if (i % 100 === 99) await j.written();
  }
  await j.written();
  assert.ok(existsSync(path), 'a snapshot was written');
  const snap = JSON.parse(readFileSync(path, 'utf8')) as { topicConfigTable: Record<string, number> };
  assert.ok(Object.keys(snap.topicConfigTable).length > 100);
  assert.ok(statSync(`${path}.log`).size < Math.max(4096, statSync(path).size) + 100 * 40, 'the journal stays about the size of the snapshot');
  await j.flush();
  assert.equal(statSync(`${path}.log`).size, 0);
  assert.equal(Object.keys((JSON.parse(readFileSync(path, 'utf8')) as typeof snap).topicConfigTable).length, 2000);
});

void test('topic config journal - a torn last line is cut and ignored; a bad line before it is an error naming the file', () => {
  using dir = tempDir('apogee-journal-');
  const path = join(dir.path, 'topics.json');
  writeFileSync(`${path}.log`, '{"put":{"topicName":"A"}}\n{"put":{"topic');
  const j = new ConfigJournal(path, () => ({}), silentLogger);
  const { entries } = j.load();
  assert.deepEqual(entries, [{ put: { topicName: 'A' } }]);
  assert.equal(readFileSync(`${path}.log`, 'utf8'), '{"put":{"topicName":"A"}}\n');
  appendFileSync(`${path}.log`, 'not json\n{"delete":"A"}\n');
  assert.throws(() => new ConfigJournal(path, () => ({}), silentLogger).load(), /topics\.json\.log line 2/);
});

void test('topic config journal - a topic acknowledged by UPDATE_AND_CREATE_TOPIC survives a SIGKILL (issue 17)', async () => {
  using dir = tempDir('apogee-journal-kill-');
  const dataDir = join(dir.path, 'data');
  const args = ['standalone', '--listenPort=0', '--namesrvPort=0', '--grpcServerPort=0', '--httpPort=0', '--host=127.0.0.1', '--brokerIP1=127.0.0.1', '--storePathRootDir', dataDir];
  let apogee = await spawnApogee(args);
  const rc = new RemotingClient();
  const names = Array.from({ length: 50 }, (_, i) => `KillTopic${i}`);
  try {
    // The kill comes right after the last answer: nothing gets time to be written later.
    await Promise.all(
      names.map(async (topic) => {
        const r = await rc.invoke(apogee.addresses.broker!, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic, readQueueNums: 4, writeQueueNums: 4, perm: 6 }));
        assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
      }),
    );
    await apogee.stop('SIGKILL');
    apogee = await spawnApogee(args);
    const r = await rc.invoke(apogee.addresses.broker!, createRequest(RequestCode.GET_ALL_TOPIC_CONFIG, {}));
    assert.equal(r.code, ResponseCode.SUCCESS);
    const table = (JSON.parse(r.body!.toString('utf8')) as { topicConfigTable: Record<string, { writeQueueNums: number }> }).topicConfigTable;
    for (const t of names) assert.equal(table[t]?.writeQueueNums, 4, `${t} after the restart`);
  } finally {
    await rc.close();
    await apogee.stop();
  }
});
