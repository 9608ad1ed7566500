// Issue 12: a transaction check scan already under way when the master is deposed writes nothing
// more (each check re-appends its half message: on a deposed member that write would land in what
// is now a copy of another master's log).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../src/common/logger.js';
import { TopicValidator } from '../../src/common/message-const.js';
import { MessageStore } from '../../src/store/index.js';
import { ConsumerOffsetManager } from '../../src/broker/consumer-offset-manager.js';
import { ProducerManager } from '../../src/broker/clients/producer-manager.js';
import { TopicConfigManager } from '../../src/broker/topic-config-manager.js';
import { TransactionalMessageService } from '../../src/broker/transaction/transactional-message-service.js';
import { TransactionCheckService } from '../../src/broker/transaction/transaction-check-service.js';
import { msgInput } from '../store/store-helpers.js';
import { tempDir } from '../helpers/temp-dir.js';

const HALF = TopicValidator.RMQ_SYS_TRANS_HALF_TOPIC;

void test('ha writers gate - issue 12: a transaction check scan stops writing when the broker may no longer write, and goes on once it may', async () => {
  using dir = tempDir('apogee-tx-gate-');
  mkdirSync(join(dir.path, 'config'), { recursive: true });
  const store = await MessageStore.open({ storePathRootDir: dir.path });
  try {
    const offsets = new ConsumerOffsetManager(join(dir.path, 'config'), silentLogger);
    const topics = new TopicConfigManager({ configDir: join(dir.path, 'config'), brokerName: 'b', clusterName: 'c', autoCreateTopicEnable: false, defaultTopicQueueNums: 4, delayLevelCount: 18, logger: silentLogger });
    topics.load();
    const tms = new TransactionalMessageService(store, offsets, silentLogger);
    let mayWrite = true;
    const checked: string[] = [];
    const checker = new TransactionCheckService(
      { brokerName: 'b', store, topics, producers: new ProducerManager(), listeners: [(m) => checked.push(m.body.toString())], mayWrite: () => mayWrite },
      tms,
      { transactionTimeOut: 0, transactionCheckInterval: 60_000, transactionCheckMax: 15 },
      silentLogger,
    );
    // Three undecided half messages, old enough to be checked back.
    for (const body of ['h1', 'h2', 'h3']) {
      await store.putMessage(msgInput(HALF, 0, body, { REAL_TOPIC: 'Orders', REAL_QID: '0', PGROUP: 'PID_tx', TRAN_MSG: 'true' }));
    }
    const before = store.getMaxOffsetInQueue(HALF, 0);
    assert.equal(before, 3);

    mayWrite = false;
    await checker.checkNow();
    assert.equal(store.getMaxOffsetInQueue(HALF, 0), before, 'a broker that may not write re-appends no half message');
    assert.deepEqual(checked, [], 'and checks none back');

    mayWrite = true;
    await checker.checkNow();
    assert.equal(store.getMaxOffsetInQueue(HALF, 0), before + 3, 'once it may write, each half message is re-appended for its check');
    assert.deepEqual(checked, ['h1', 'h2', 'h3']);
  } finally {
    await store.shutdown();
  }
});
