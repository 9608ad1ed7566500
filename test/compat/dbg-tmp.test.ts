import { test } from 'node:test';
import { createGroup, createTopic, GrpcHarness, rmq } from './helpers/grpc.js';
test('dbg', async () => {
  const t0 = Date.now();
  {
  await using h = await GrpcHarness.start();
  await createTopic(h.s, 'GPushDlq');
  await createGroup(h.s, 'g-push-dlq', { retryMaxTimes: 2 });
  await h.pushConsumer('g-push-dlq', { GPushDlq: '*' }, () => Promise.resolve(rmq.ConsumeResult.SUCCESS));
  console.log('started', Date.now() - t0);
  }
  console.log('closed', Date.now() - t0);
  setTimeout(() => { console.log(process.getActiveResourcesInfo()); }, 3000).unref();
});
