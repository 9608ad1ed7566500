import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { checkFor } from '../helpers/check-for.js';
import {
  BrokerError,
  createRequest,
  createResponse,
  decodeCommand,
  encodeCommandToBuffer,
  FrameDecoder,
  markOneway,
  RemotingClient,
  RemotingServer,
  RequestCode,
  ResponseCode,
  SerializeType,
  verifySignature,
  type RemotingChannel,
  type RemotingCommand,
} from '../../src/remoting/index.js';
import { AliChannelClass, AliRemotingCommand } from './ali-ons.js';

// Processor codes for this file; real names where a message should name the code.
const SYNC = 1001;
const ASYNC = 1002;
const BROKER_ERR = 1003;
const PLAIN_ERR = 1004;
const LATER = 1005;
const COUNT = 1006;
const ASYNC_REJECT = 1007;
const SILENT = RequestCode.PULL_MESSAGE;
const ASK_CLIENT = RequestCode.HEART_BEAT;
const SIGNED = RequestCode.SEND_MESSAGE_V2;

const echo = (req: RemotingCommand): RemotingCommand =>
  createResponse(ResponseCode.SUCCESS, undefined, { v: req.extFields.v, code: req.code }, req.body);

async function startServer(maxInflight?: number): Promise<{ server: RemotingServer; addr: string; counted: RemotingCommand[] }> {
  const server = new RemotingServer({ host: '127.0.0.1', port: 0, maxInflight });
  const counted: RemotingCommand[] = [];
  server.registerProcessor(SYNC, echo);
  server.registerProcessor(ASYNC, async (req) => {
    // A varying delay so responses come back out of request order.
    await new Promise((r) => setTimeout(r, Number(req.extFields.v) % 7));
    return echo(req);
  });
  server.registerProcessor(BROKER_ERR, () => {
    throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, 'topic X not exist');
  });
  server.registerProcessor(PLAIN_ERR, () => {
    throw new Error('boom\n    at somewhere (file.ts:1:1)');
  });
  server.registerProcessor(ASYNC_REJECT, () => Promise.reject(new BrokerError(ResponseCode.NO_PERMISSION, 'denied')));
  server.registerProcessor(LATER, (req, ch) => {
    setTimeout(() => ch.respond(req, createResponse(ResponseCode.SUCCESS, 'later', { v: req.extFields.v })), 20);
    return null;
  });
  server.registerProcessor(COUNT, (req) => {
    counted.push(req);
    return createResponse(ResponseCode.SUCCESS, 'counted');
  });
  server.registerProcessor(SILENT, () => null);
  server.registerProcessor(ASK_CLIENT, async (req, ch) => {
    const answer = await ch.invoke(createRequest(RequestCode.CHECK_TRANSACTION_STATE, { q: req.extFields.v }), 2000);
    return createResponse(ResponseCode.SUCCESS, undefined, { fromClient: answer.extFields.a });
  });
  server.registerProcessor(SIGNED, (req) =>
    createResponse(verifySignature(req.extFields, req.body as Buffer | undefined, 'sk') ? ResponseCode.SUCCESS : ResponseCode.NO_PERMISSION, undefined, {
      queueId: req.extFields.e,
      k: req.extFields.k,
      queueOffset: 12,
    }),
  );
  const { port } = await server.listen();
  return { server, addr: `127.0.0.1:${port}`, counted };
}

/** A bare socket that collects decoded frames, for what the client classes hide. */
async function rawConnection(addr: string): Promise<{ socket: Socket; frames: RemotingCommand[] }> {
  const [host, port] = addr.split(':');
  const socket = connect({ host, port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const frames: RemotingCommand[] = [];
  const d = new FrameDecoder();
  socket.on('data', (c: Buffer) => d.push(c, (f) => frames.push(decodeCommand(Buffer.from(f)))));
  return { socket, frames };
}

void describe('remoting server', () => {
  let server: RemotingServer;
  let addr: string;
  let counted: RemotingCommand[];
  let client: RemotingClient;

  before(async () => {
    ({ server, addr, counted } = await startServer());
    client = new RemotingClient();
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  void test('remoting server - sync processor answers with the request opaque and the response flag', async () => {
    const req = createRequest(SYNC, { v: 'x' }, Buffer.from('body'));
    const res = await client.invoke(addr, req);
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.equal(res.opaque, req.opaque);
    assert.equal(res.flag & 1, 1);
    assert.equal(res.extFields.v, 'x');
    assert.equal((res.body as Buffer).toString(), 'body');
  });

  void test('remoting server - responses correlate by opaque under 1000 concurrent requests', async () => {
    const reqs = Array.from({ length: 1000 }, (_, i) => createRequest(i % 2 ? ASYNC : SYNC, { v: i }, Buffer.from(`b${i}`)));
    const res = await Promise.all(reqs.map((r) => client.invoke(addr, r, 10_000)));
    res.forEach((r, i) => {
      assert.equal(r.code, ResponseCode.SUCCESS);
      assert.equal(r.opaque, reqs[i].opaque);
      assert.equal(r.extFields.v, String(i));
      assert.equal(r.extFields.code, String(reqs[i].code));
      assert.equal((r.body as Buffer).toString(), `b${i}`);
    });
  });

  void test('remoting server - unknown code gets REQUEST_CODE_NOT_SUPPORTED naming the code', async () => {
    const res = await client.invoke(addr, createRequest(4242));
    assert.equal(res.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    assert.match(res.remark ?? '', /4242/);
  });

  void test('remoting server - a thrown BrokerError answers its code and remark', async () => {
    const res = await client.invoke(addr, createRequest(BROKER_ERR));
    assert.equal(res.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.equal(res.remark, 'topic X not exist');
    const rej = await client.invoke(addr, createRequest(ASYNC_REJECT));
    assert.equal(rej.code, ResponseCode.NO_PERMISSION);
    assert.equal(rej.remark, 'denied');
  });

  void test('remoting server - a thrown Error answers SYSTEM_ERROR with a one-line remark and the connection stays usable', async () => {
    const conn = await client.connection(addr);
    const res = await client.invoke(addr, createRequest(PLAIN_ERR));
    assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
    assert.match(res.remark ?? '', /boom/);
    assert.ok(!(res.remark ?? '').includes('\n'), 'one line');
    assert.ok(!(res.remark ?? '').includes('somewhere'), 'no stack');
    const ok = await client.invoke(addr, createRequest(SYNC, { v: 'after' }));
    assert.equal(ok.extFields.v, 'after');
    assert.equal(await client.connection(addr), conn);
    assert.equal(conn.closed, false);
  });

  void test('remoting server - a processor returning null answers later with ch.respond', async () => {
    const res = await client.invoke(addr, createRequest(LATER, { v: 'l' }));
    assert.equal(res.remark, 'later');
    assert.equal(res.extFields.v, 'l');
  });

  void test('remoting server - oneway requests reach the processor and get no response', async () => {
    const { socket, frames } = await rawConnection(addr);
    try {
      const before = counted.length;
      const oneway = markOneway(createRequest(COUNT, { n: 'oneway' }));
      const normal = createRequest(COUNT, { n: 'normal' });
      socket.write(Buffer.concat([encodeCommandToBuffer(oneway), encodeCommandToBuffer(normal)]));
      await checkFor(3000, 5, () => frames.length >= 1, 'the normal response');
      // The processor is synchronous and answers in order: had the oneway been answered, it would come first.
      assert.equal(frames.length, 1);
      assert.equal(frames[0].opaque, normal.opaque);
      assert.deepEqual(
        counted.slice(before).map((c) => c.extFields.n),
        ['oneway', 'normal'],
      );
    } finally {
      socket.destroy();
    }
  });

  void test('remoting server - oneway through the client reaches the server', async () => {
    const before = counted.length;
    await client.invokeOneway(addr, createRequest(COUNT, { n: 'client-oneway' }));
    await checkFor(3000, 5, () => counted.length > before, 'the oneway request');
    assert.equal(counted[before].extFields.n, 'client-oneway');
    assert.equal(counted[before].flag & 2, 2);
  });

  void test('remoting server - invoke timeout rejects with a message naming the code', async () => {
    const started = Date.now();
    await assert.rejects(client.invoke(addr, createRequest(SILENT), 150), /PULL_MESSAGE.*timed out after 150 ms/);
    assert.ok(Date.now() - started >= 140);
    const ok = await client.invoke(addr, createRequest(SYNC, { v: 'still' }));
    assert.equal(ok.extFields.v, 'still');
  });

  void test('remoting server - the server invokes the client over the same connection', async () => {
    const c2 = new RemotingClient();
    try {
      c2.registerProcessor(RequestCode.CHECK_TRANSACTION_STATE, (req) =>
        createResponse(ResponseCode.SUCCESS, undefined, { a: `answer-${req.extFields.q}` }),
      );
      const res = await c2.invoke(addr, createRequest(ASK_CLIENT, { v: 7 }));
      assert.equal(res.code, ResponseCode.SUCCESS);
      assert.equal(res.extFields.fromClient, 'answer-7');
    } finally {
      await c2.close();
    }
  });

  void test('remoting server - channel close listener fires with the closed channel', async () => {
    const closed: RemotingChannel[] = [];
    server.onChannelClose((ch) => closed.push(ch));
    const c2 = new RemotingClient();
    await c2.invoke(addr, createRequest(SYNC));
    const local = (await c2.connection(addr)).localAddress;
    const serverSide = [...server.connections].find((ch) => ch.remoteAddress === local);
    assert.ok(serverSide, 'server sees the connection');
    await c2.close();
    await checkFor(3000, 5, () => closed.some((ch) => ch === serverSide), 'close listener');
    assert.equal(serverSide.closed, true);
    assert.ok(![...server.connections].includes(serverSide));
  });

  void test('remoting server - pending invokes reject when the connection closes', async () => {
    const c2 = new RemotingClient();
    const p = c2.invoke(addr, createRequest(SILENT), 5000);
    await checkFor(3000, 5, async () => (await c2.connection(addr)) !== undefined, 'connection');
    const conn = await c2.connection(addr);
    conn.close();
    await assert.rejects(p, /closed/);
    await c2.close();
  });

  void test('remoting server - binary (ROCKETMQ) requests are answered in binary', async () => {
    const bin = new RemotingClient({ serializeType: SerializeType.ROCKETMQ });
    try {
      const res = await bin.invoke(addr, createRequest(SYNC, { v: 'bin' }, Buffer.from('B')));
      assert.equal(res.serializeType, SerializeType.ROCKETMQ);
      assert.equal(res.extFields.v, 'bin');
      assert.equal((res.body as Buffer).toString(), 'B');
    } finally {
      await bin.close();
    }
    const { socket, frames } = await rawConnection(addr);
    try {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.write(encodeCommandToBuffer({ ...createRequest(SYNC, { v: 'raw' }), serializeType: SerializeType.ROCKETMQ }));
      await checkFor(3000, 5, () => frames.length === 1, 'binary response');
      assert.equal(Buffer.concat(chunks)[4], SerializeType.ROCKETMQ, 'type byte of the response frame');
    } finally {
      socket.destroy();
    }
  });

  void test('remoting server - a malformed frame closes only that connection', async () => {
    const { socket } = await rawConnection(addr);
    const closedP = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    await closedP;
    const res = await client.invoke(addr, createRequest(SYNC, { v: 'alive' }));
    assert.equal(res.extFields.v, 'alive');
  });

  void test('remoting server - the real ali-ons channel sends a signed JSON request and reads the answer', async () => {
    const ch = new AliChannelClass(addr, { accessKey: 'ak', secretKey: 'sk', logger: quietLogger });
    try {
      await ch.ready();
      const req = AliRemotingCommand.createRequestCommand(SIGNED, { a: 'g', b: 'TopicTest', e: 3, k: false, g: Date.now() });
      req.body = Buffer.from('hello from ali-ons');
      const res = await ch.invoke(req, 3000);
      assert.equal(res.code, ResponseCode.SUCCESS, `signature verified (remark: ${res.remark})`);
      assert.equal(res.isResponseType, true);
      assert.equal(res.opaque, req.opaque);
      assert.deepEqual(res.extFields, { queueId: '3', k: 'false', queueOffset: '12' });
      const bad = new AliChannelClass(addr, { accessKey: 'ak', secretKey: 'wrong', logger: quietLogger });
      try {
        await bad.ready();
        const r2 = AliRemotingCommand.createRequestCommand(SIGNED, { a: 'g', e: 1 });
        assert.equal((await bad.invoke(r2, 3000)).code, ResponseCode.NO_PERMISSION);
      } finally {
        bad.close();
      }
    } finally {
      ch.close();
    }
  });
});

const quietLogger = { info: noop, warn: noop, error: noop, debug: noop };
function noop(): void {}

void describe('remoting server overload', () => {
  void test('remoting server - maxInflight answers SYSTEM_BUSY beyond the limit', async () => {
    const server = new RemotingServer({ host: '127.0.0.1', port: 0, maxInflight: 2 });
    const release: (() => void)[] = [];
    server.registerProcessor(ASYNC, (req) => new Promise<RemotingCommand>((resolve) => release.push(() => resolve(echo(req)))));
    const { port } = await server.listen();
    const addr = `127.0.0.1:${port}`;
    const client = new RemotingClient();
    try {
      const first = [client.invoke(addr, createRequest(ASYNC, { v: 1 })), client.invoke(addr, createRequest(ASYNC, { v: 2 }))];
      await checkFor(3000, 5, () => release.length === 2, 'two requests in flight');
      const busy = await client.invoke(addr, createRequest(ASYNC, { v: 3 }));
      assert.equal(busy.code, ResponseCode.SYSTEM_BUSY);
      for (const r of release) r();
      const done = await Promise.all(first);
      assert.deepEqual(
        done.map((r) => [r.code, r.extFields.v]),
        [
          [ResponseCode.SUCCESS, '1'],
          [ResponseCode.SUCCESS, '2'],
        ],
      );
      // Capacity is back once they finished.
      const again = client.invoke(addr, createRequest(ASYNC, { v: 4 }));
      await checkFor(3000, 5, () => release.length === 3, 'a new request in flight');
      release[2]();
      assert.equal((await again).code, ResponseCode.SUCCESS);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
