// Request/response hooks of the remoting server (issue 11): they see every request and response
// (unknown codes, errors, later answers, oneways), a before-hook can refuse with a code and remark
// without the processor running, and a hook that throws does not take the server down.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { checkFor } from '../helpers/check-for.js';
import {
  BrokerError,
  createRequest,
  createResponse,
  markOneway,
  RemotingClient,
  RemotingServer,
  RequestCode,
  ResponseCode,
  verifySignature,
  type RemotingCommand,
  type RequestHook,
  type RequestHookContext,
} from '../../src/remoting/index.js';
import { AliChannelClass, AliRemotingCommand } from './ali-ons.js';

const ECHO = 1101;
const ASYNC = 1102;
const BROKER_ERR = 1103;
const PLAIN_ERR = 1104;
const LATER = 1105;
const UNKNOWN = 4343;
const SEND = RequestCode.SEND_MESSAGE_V2;

interface Seen {
  before: RequestHookContext[];
  after: { ctx: RequestHookContext; response: RemotingCommand; elapsedNs: bigint }[];
}

/** A hook that records what it sees (the arrays are the hook's own fields). */
function recordingHook(): { hook: RequestHook; seen: Seen } {
  const seen: Seen = { before: [], after: [] };
  return {
    seen,
    hook: {
      before: (ctx) => {
        seen.before.push(ctx);
      },
      after: (ctx, response, elapsedNs) => {
        seen.after.push({ ctx, response, elapsedNs });
      },
    },
  };
}

/** Log lines written by a pino logger, parsed. */
function capturedLogger(): { logger: pino.Logger; lines: { msg: string; level: number }[] } {
  const lines: { msg: string; level: number }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { msg: string; level: number });
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

async function startServer(logger?: pino.Logger): Promise<{ server: RemotingServer; addr: string; calls: Map<number, number> }> {
  const server = new RemotingServer({ host: '127.0.0.1', port: 0, logger });
  const calls = new Map<number, number>();
  const count = (code: number): void => {
    calls.set(code, (calls.get(code) ?? 0) + 1);
  };
  server.registerProcessor(ECHO, (req) => {
    count(ECHO);
    return createResponse(ResponseCode.SUCCESS, undefined, { v: req.extFields.v });
  });
  server.registerProcessor(ASYNC, async (req) => {
    count(ASYNC);
    await new Promise((r) => setImmediate(r));
    return createResponse(ResponseCode.SUCCESS, 'async', { v: req.extFields.v });
  });
  server.registerProcessor(BROKER_ERR, () => {
    count(BROKER_ERR);
    throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, 'topic Nope not exist');
  });
  server.registerProcessor(PLAIN_ERR, () => {
    count(PLAIN_ERR);
    throw new Error('kaput');
  });
  server.registerProcessor(LATER, (req, ch) => {
    count(LATER);
    setTimeout(() => ch.respond(req, createResponse(ResponseCode.SUCCESS, 'later')), 15);
    return null;
  });
  server.registerProcessor(SEND, () => {
    count(SEND);
    return createResponse(ResponseCode.SUCCESS, undefined, { msgId: 'X', queueId: 0, queueOffset: 1 });
  });
  const { port } = await server.listen();
  return { server, addr: `127.0.0.1:${port}`, calls };
}

void describe('remoting request hooks', () => {
  let server: RemotingServer;
  let addr: string;
  let calls: Map<number, number>;
  let client: RemotingClient;

  before(async () => {
    ({ server, addr, calls } = await startServer());
    client = new RemotingClient();
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  void test('remoting hooks - before and after see every request and response: success, async, later, unknown code, errors, oneway', async () => {
    const { hook, seen } = recordingHook();
    const remove = server.addHook(hook);
    try {
      const sent = [
        createRequest(ECHO, { v: 'e' }),
        createRequest(ASYNC, { v: 'a' }),
        createRequest(LATER),
        createRequest(UNKNOWN),
        createRequest(BROKER_ERR),
        createRequest(PLAIN_ERR),
      ];
      const answers = await Promise.all(sent.map((r) => client.invoke(addr, r)));
      assert.deepEqual(
        answers.map((a) => a.code),
        [
          ResponseCode.SUCCESS,
          ResponseCode.SUCCESS,
          ResponseCode.SUCCESS,
          ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
          ResponseCode.TOPIC_NOT_EXIST,
          ResponseCode.SYSTEM_ERROR,
        ],
      );
      const oneway = markOneway(createRequest(ECHO, { v: 'one' }));
      await client.invokeOneway(addr, oneway);
      await checkFor(3000, 5, () => seen.after.length === sent.length + 1, 'every response seen by after');

      const local = (await client.connection(addr)).localAddress;
      assert.deepEqual(
        seen.before.map((c) => c.code),
        [...sent.map((r) => r.code), ECHO],
        'before saw each request in arrival order, the unknown code too',
      );
      for (const c of seen.before) assert.equal(c.channel.remoteAddress, local, 'the channel is the client connection');
      const byOpaque = new Map(seen.after.map((a) => [a.ctx.request.opaque, a]));
      sent.forEach((req, i) => {
        const a = byOpaque.get(req.opaque);
        assert.ok(a, `after saw the response to request ${req.code}`);
        assert.equal(a.response.code, answers[i].code);
        assert.equal(a.response.remark, answers[i].remark);
        assert.ok(seen.before.includes(a.ctx), 'after gets the context object before got');
        assert.ok(a.elapsedNs > 0n);
      });
      assert.match(byOpaque.get(sent[3].opaque)!.response.remark ?? '', /4343/);
      assert.ok(byOpaque.get(sent[2].opaque)!.elapsedNs >= 10_000_000n, 'a later answer is timed from the request to ch.respond');
      const ow = byOpaque.get(oneway.opaque)!;
      assert.equal(ow.ctx.oneway, true);
      assert.equal(ow.response.code, ResponseCode.SUCCESS, 'the dropped answer of a oneway is still seen');
    } finally {
      remove();
    }
    // Removed: the next request is not seen.
    const beforeCount = seen.before.length;
    await client.invoke(addr, createRequest(ECHO));
    assert.equal(seen.before.length, beforeCount);
  });

  void test('remoting hooks - after sees SYSTEM_BUSY answers of an overloaded server', async () => {
    const busy = new RemotingServer({ host: '127.0.0.1', port: 0, maxInflight: 1 });
    const release: (() => void)[] = [];
    busy.registerProcessor(ASYNC, () => new Promise<RemotingCommand>((resolve) => release.push(() => resolve(createResponse(ResponseCode.SUCCESS)))));
    const { hook, seen } = recordingHook();
    busy.addHook(hook);
    const { port } = await busy.listen();
    const c = new RemotingClient();
    try {
      const first = c.invoke(`127.0.0.1:${port}`, createRequest(ASYNC));
      await checkFor(3000, 5, () => release.length === 1, 'one request in flight');
      const second = await c.invoke(`127.0.0.1:${port}`, createRequest(ASYNC));
      assert.equal(second.code, ResponseCode.SYSTEM_BUSY);
      release[0]();
      await first;
      assert.deepEqual(
        seen.after.map((a) => a.response.code),
        [ResponseCode.SYSTEM_BUSY, ResponseCode.SUCCESS],
      );
    } finally {
      await c.close();
      await busy.close();
    }
  });

  void test('remoting hooks - an ACL-style before-hook refuses the real ali-ons client signed with a wrong secret; the processor never runs', async () => {
    // The shape ACL will take: verify the signature, refuse with NO_PERMISSION and a remark naming the cause.
    const remove = server.addHook({
      before: (ctx) => {
        const ak = ctx.request.extFields.AccessKey;
        if (ak !== 'ak') return { code: ResponseCode.NO_PERMISSION, remark: `unknown AccessKey ${ak ?? '(none)'}` };
        if (!verifySignature(ctx.request.extFields, ctx.request.body as Buffer | undefined, 'sk')) {
          return { code: ResponseCode.NO_PERMISSION, remark: `signature of AccessKey ${ak} does not match` };
        }
        return undefined;
      },
    });
    const good = new AliChannelClass(addr, { accessKey: 'ak', secretKey: 'sk', logger: quietLogger });
    const bad = new AliChannelClass(addr, { accessKey: 'ak', secretKey: 'wrong', logger: quietLogger });
    try {
      await good.ready();
      await bad.ready();
      const sendsBefore = calls.get(SEND) ?? 0;
      const req = (): ReturnType<typeof AliRemotingCommand.createRequestCommand> => {
        const r = AliRemotingCommand.createRequestCommand(SEND, { a: 'g', b: 'TopicAcl', e: 1, k: false, g: Date.now() });
        r.body = Buffer.from('signed body');
        return r;
      };
      const refused = await bad.invoke(req(), 3000);
      assert.equal(refused.code, ResponseCode.NO_PERMISSION);
      assert.equal(refused.remark, 'signature of AccessKey ak does not match');
      assert.equal(calls.get(SEND) ?? 0, sendsBefore, 'the processor was not called for the refused request');
      const accepted = await good.invoke(req(), 3000);
      assert.equal(accepted.code, ResponseCode.SUCCESS, `accepted (remark: ${accepted.remark})`);
      assert.equal(calls.get(SEND), sendsBefore + 1);
    } finally {
      remove();
      good.close();
      bad.close();
    }
  });

  void test('remoting hooks - a refused oneway gets no response, the processor does not run, and after still counts it', async () => {
    const { hook, seen } = recordingHook();
    const removeRefuser = server.addHook({ before: (ctx) => (ctx.code === ECHO ? { code: ResponseCode.NO_PERMISSION, remark: 'no echo for you' } : undefined) });
    const removeRecorder = server.addHook(hook);
    try {
      const echoes = calls.get(ECHO) ?? 0;
      const oneway = markOneway(createRequest(ECHO, { v: 'refused' }));
      await client.invokeOneway(addr, oneway);
      // A normal request on the same connection after it: its answer proves the oneway was handled first.
      const res = await client.invoke(addr, createRequest(ASYNC, { v: 'next' }));
      assert.equal(res.extFields.v, 'next', 'the next answer is the next request, not a response to the oneway');
      await checkFor(3000, 5, () => seen.after.length === 2, 'after of both requests');
      assert.equal(calls.get(ECHO) ?? 0, echoes, 'the processor did not run');
      // The refusing hook comes first, so the recorder's before never ran for the oneway; its after did.
      assert.deepEqual(
        seen.before.map((c) => c.code),
        [ASYNC],
      );
      const [refused, accepted] = seen.after;
      assert.equal(refused.ctx.request.opaque, oneway.opaque);
      assert.equal(refused.ctx.oneway, true);
      assert.equal(refused.response.code, ResponseCode.NO_PERMISSION);
      assert.equal(refused.response.remark, 'no echo for you');
      assert.equal(accepted.ctx.code, ASYNC);
    } finally {
      removeRefuser();
      removeRecorder();
    }
  });
});

void describe('remoting request hooks that throw', () => {
  void test('remoting hooks - a throwing before refuses with SYSTEM_ERROR (logged), a BrokerError with its code; a throwing after is logged; the server keeps serving', async () => {
    const { logger, lines } = capturedLogger();
    const { server, addr, calls } = await startServer(logger);
    const client = new RemotingClient();
    try {
      server.addHook({
        before: (ctx) => {
          if (ctx.request.extFields.v === 'crash') throw new Error('hook exploded\n    at stack');
          if (ctx.request.extFields.v === 'deny') throw new BrokerError(ResponseCode.NO_PERMISSION, 'denied by hook');
        },
        after: () => {
          throw new Error('after exploded');
        },
      });
      const { hook, seen } = recordingHook();
      server.addHook(hook);
      const crashed = await client.invoke(addr, createRequest(ECHO, { v: 'crash' }));
      assert.equal(crashed.code, ResponseCode.SYSTEM_ERROR);
      assert.equal(crashed.remark, 'UNKNOWN(1101) refused: a request hook failed: hook exploded', 'one line, names the code and the failure');
      const denied = await client.invoke(addr, createRequest(ECHO, { v: 'deny' }));
      assert.equal(denied.code, ResponseCode.NO_PERMISSION);
      assert.equal(denied.remark, 'denied by hook');
      assert.equal(calls.get(ECHO) ?? 0, 0, 'no refused request reached the processor');
      const ok = await client.invoke(addr, createRequest(ECHO, { v: 'fine' }));
      assert.equal(ok.code, ResponseCode.SUCCESS);
      assert.equal(ok.extFields.v, 'fine');
      assert.equal((await client.connection(addr)).closed, false, 'the connection stayed open');
      // The throwing after hook did not keep the next hook from seeing every response.
      assert.deepEqual(
        seen.after.map((a) => a.response.code),
        [ResponseCode.SYSTEM_ERROR, ResponseCode.NO_PERMISSION, ResponseCode.SUCCESS],
      );
      await checkFor(3000, 5, () => lines.some((l) => l.msg === 'request hook failed'), 'the before failure logged');
      assert.equal(lines.filter((l) => l.msg === 'response hook failed').length, 3);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

const quietLogger = { info: noop, warn: noop, error: noop, debug: noop };
function noop(): void {}
