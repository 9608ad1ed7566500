import { test } from 'node:test';
import { createGroup, createTopic, GrpcHarness, rmq } from './helpers/grpc.js';
test('dbg', async () => {
  await using h = await GrpcHarness.start({ transactionCheckInterval: 300, transactionTimeOut: 500 });
  await createTopic(h.s, 'GTxCheck', 'TRANSACTION');
  const b = h.s.controller;
  b.transactionCheckListeners.push((m, t) => console.log('listener', t, m.properties.replace(/\u0001/g,'=').replace(/\u0002/g,' ')));
  const p = await h.producer('GTxCheck', { checker: { check: (m: any) => { console.log('CHECK', m.messageId); return Promise.resolve(rmq.TransactionResolution.COMMIT); } } });
  console.log('clients', [...(h.g.context.clients as any).clients.values()].map((c: any) => [c.clientId, c.clientType, [...c.topics], !!c.telemetry]));
  const t = p.beginTransaction();
  const r = await p.send({ topic: 'GTxCheck', body: Buffer.from('x') }, t);
  console.log('sent', r.messageId);
  await new Promise((res) => setTimeout(res, 3000));
  console.log('clients', [...(h.g.context.clients as any).clients.values()].map((c: any) => [c.clientId, c.clientType, [...c.topics], !!c.telemetry]));
});
