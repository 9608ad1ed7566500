// Issue 15 part B: request timeouts on the remoting port. A request whose processing outlasts
// serverRequestTimeoutMillis is answered SYSTEM_BUSY with a remark naming the limit instead of
// hanging, its late answer is dropped, and long polls (pull, pop) are exempt by design.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.js';
import { createRequest, createResponse, RemotingClient, RemotingServer, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { startStandalone } from '../helpers/standalone.js';
import { createGroup, createTopic } from '../compat/helpers/grpc.js';

/** A request code no processor of the broker uses: the stand-in for a stuck request. */
const STUCK_CODE = 990_001;

void describe('request timeouts', () => {
  void test('request timeout - serverRequestTimeoutMillis exists with a 30 s default on broker and proxy (issue 15)', () => {
    assert.equal(loadConfig('broker').serverRequestTimeoutMillis, 30_000);
    assert.equal(loadConfig('proxy').serverRequestTimeoutMillis, 30_000);
  });

  void test('request timeout - a stuck request is answered SYSTEM_BUSY naming the limit, its late answer is dropped, a slow pull is not cut (issue 15)', async () => {
    const server = new RemotingServer({ host: '127.0.0.1', port: 0, requestTimeoutMs: 200 });
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    server.registerProcessor(STUCK_CODE, async () => {
      await stuck;
      return createResponse(ResponseCode.SUCCESS, 'too late');
    });
    // A long poll that answers after three times the limit: exempt, so it gets its own answer.
    server.registerProcessor(RequestCode.PULL_MESSAGE, async () => {
      await new Promise((resolve) => setTimeout(resolve, 600));
      return createResponse(ResponseCode.PULL_NOT_FOUND, 'no new message');
    });
    server.registerProcessor(RequestCode.GET_BROKER_RUNTIME_INFO, () => createResponse(ResponseCode.SUCCESS));
    const { port } = await server.listen();
    const addr = `127.0.0.1:${port}`;
    const rc = new RemotingClient();
    try {
      const started = Date.now();
      const [timedOut, pull] = await Promise.all([
        rc.invoke(addr, createRequest(STUCK_CODE), 10_000),
        rc.invoke(addr, createRequest(RequestCode.PULL_MESSAGE), 10_000),
      ]);
      assert.equal(timedOut.code, ResponseCode.SYSTEM_BUSY);
      assert.match(timedOut.remark ?? '', /not answered within serverRequestTimeoutMillis=200 ms/);
      assert.ok(Date.now() - started < 5000);
      assert.equal(pull.code, ResponseCode.PULL_NOT_FOUND, pull.remark);
      assert.equal(server.timedOutRequests, 1);
      // The processor's answer arrives now, after the client has been answered: it goes nowhere,
      // and the connection keeps serving.
      release();
      await stuck;
      assert.equal((await rc.invoke(addr, createRequest(RequestCode.GET_BROKER_RUNTIME_INFO), 3000)).code, ResponseCode.SUCCESS);
    } finally {
      await rc.close();
      await server.close();
    }
  });

  void test('request timeout - a broker pop long poll longer than serverRequestTimeoutMillis waits out its poll time (issue 15)', async () => {
    await using s = await startStandalone({ serverRequestTimeoutMillis: 200 });
    await createTopic(s, 'TimeoutPop', 'NORMAL', 1);
    await createGroup(s, 'timeout-pop-g');
    const rc = new RemotingClient();
    try {
      const started = Date.now();
      const r = await rc.invoke(
        s.brokerAddr,
        createRequest(RequestCode.POP_MESSAGE, { consumerGroup: 'timeout-pop-g', topic: 'TimeoutPop', queueId: -1, maxMsgNums: 1, invisibleTime: 10_000, pollTime: 1200, bornTime: Date.now(), initMode: 0, expType: 'TAG', exp: '*' }),
        10_000,
      );
      assert.equal(r.code, ResponseCode.POLLING_TIMEOUT, r.remark);
      assert.ok(Date.now() - started >= 1000, 'the poll was held for its poll time');
      assert.equal(s.controller.remotingServer.timedOutRequests, 0);
    } finally {
      await rc.close();
    }
  });
});
