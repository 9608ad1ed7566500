// Issue 17: a plain send's first attempt is made outside the retry loop; when it fails, the loop
// goes on from its second attempt (retryTimesWhenSendFailed more sends in all, not one more), and a
// refusal that is not retryable comes back as it is, after one attempt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startStandalone } from '../helpers/standalone.js';
import { checkFor } from '../helpers/check-for.js';
import { AdminClient, MQBrokerError, PermName, Producer } from '../../src/client/index.js';
import { ResponseCode } from '../../src/remoting/index.js';

test('producer - issue 17: a failed first send is retried from the second attempt; a non-retryable refusal is not retried', async () => {
  await using s = await startStandalone({ maxMessageSize: 2048 });
  const admin = new AdminClient({ namesrvAddr: s.namesrvAddr });
  const lines: Array<{ msg?: string; attempt?: number }> = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as { msg?: string; attempt?: number }) });
  const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-retry', logger, retryTimesWhenSendFailed: 2, maxMessageSize: 1 << 20 });
  const retries = (): number[] => lines.filter((l) => l.msg === 'send failed, retrying').map((l) => l.attempt ?? -1);
  try {
    await admin.createTopic(s.brokerAddr, 'RetryTopic', { readQueueNums: 2, writeQueueNums: 2 });
    await checkFor(5000, 20, () => admin.topicRoute('RetryTopic').then(() => true), 'route of RetryTopic');
    await producer.start();
    // The first send finds the route and opens the connection; the second takes the direct path.
    assert.equal((await producer.send({ topic: 'RetryTopic', body: 'one' })).sendStatus, 'SEND_OK');
    assert.equal((await producer.send({ topic: 'RetryTopic', body: 'two' })).sendStatus, 'SEND_OK');
    assert.deepEqual(retries(), []);

    await assert.rejects(producer.send({ topic: 'RetryTopic', body: Buffer.alloc(3000, 1) }), (e: unknown) => e instanceof MQBrokerError && e.code === ResponseCode.MESSAGE_ILLEGAL);
    assert.deepEqual(retries(), [], 'MESSAGE_ILLEGAL is not retried');

    // Read-only on the broker while the producer's route still says writable: NO_PERMISSION, retryable.
    await admin.createTopic(s.brokerAddr, 'RetryTopic', { readQueueNums: 2, writeQueueNums: 2, perm: PermName.PERM_READ });
    await assert.rejects(producer.send({ topic: 'RetryTopic', body: 'three' }), (e: unknown) => e instanceof MQBrokerError && e.code === ResponseCode.NO_PERMISSION);
    assert.deepEqual(retries(), [0, 1, 2], 'three attempts in all, each failure logged once');
  } finally {
    await producer.shutdown();
    await admin.shutdown();
  }
});
