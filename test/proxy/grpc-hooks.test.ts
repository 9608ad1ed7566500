// gRPC hooks (issue 11): one server interceptor sees the unary and streaming calls the real 5.x
// client makes, with metadata (what ACL reads), peer, final status and time; a refusing hook's
// code reaches the client as a v2 Status in the response; a throwing hook does not break the server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { Code, type GrpcCallContext, type GrpcCallOutcome, type GrpcHook } from '../../src/proxy/index.js';
import { loadMessagingService } from '../../src/proxy/proto.js';
import { checkFor } from '../helpers/check-for.js';
import { createGroup, createTopic, GrpcClients, GrpcHarness, rawClient, receiveN } from '../compat/helpers/grpc.js';

interface Seen {
  before: { ctx: GrpcCallContext; request: any }[];
  after: { ctx: GrpcCallContext; outcome: GrpcCallOutcome; elapsedNs: bigint }[];
}

function recordingHook(): { hook: GrpcHook; seen: Seen } {
  const seen: Seen = { before: [], after: [] };
  return {
    seen,
    hook: {
      before: (ctx, request) => {
        seen.before.push({ ctx, request });
      },
      after: (ctx, outcome, elapsedNs) => {
        seen.after.push({ ctx, outcome, elapsedNs });
      },
    },
  };
}

const methods = (list: { ctx: GrpcCallContext }[]): Set<string> => new Set(list.map((e) => e.ctx.method));
const md1 = (md: grpc.Metadata, key: string): string => String(md.get(key)[0] ?? '');

void describe('proxy grpc hooks', () => {
  let h: GrpcHarness;

  before(async () => {
    h = await GrpcHarness.start();
    await createTopic(h.s, 'GHooks');
    await createTopic(h.s, 'GHookDenied');
    await createGroup(h.s, 'g-hooks');
    await createGroup(h.s, 'g-hook-denied');
  });
  after(async () => {
    await h.close();
  });

  void test('proxy hooks - unary and streaming calls of the real 5.x client are seen with metadata, peer, final status and time', async () => {
    const { hook, seen } = recordingHook();
    const remove = h.g.addHook(hook);
    // Clients of their own, so the test can shut them down and see their Telemetry streams end.
    const clients = new GrpcClients(h.endpoints);
    try {
      const p = await clients.producer('GHooks', { sessionCredentials: { accessKey: 'hook-ak', accessSecret: 'hook-sk' } });
      const c = await clients.simpleConsumer('g-hooks', { GHooks: '*' });
      const receipt = await p.send({ topic: 'GHooks', tag: 'T', body: Buffer.from('seen by hooks') });
      const [m] = await receiveN(c, 1, 10_000);
      assert.equal(m?.messageId, receipt.messageId);

      const called = methods(seen.before);
      for (const name of ['QueryRoute', 'SendMessage', 'ReceiveMessage', 'AckMessage', 'Telemetry']) {
        assert.ok(called.has(name), `before saw ${name} (saw ${[...called].join(', ')})`);
      }
      const send = seen.before.find((e) => e.ctx.method === 'SendMessage')!;
      assert.equal(send.ctx.path, '/apache.rocketmq.v2.MessagingService/SendMessage');
      assert.equal(send.ctx.requestStream, false);
      assert.equal(send.request.messages[0].topic.name, 'GHooks', 'the decoded request, so ACL can check the resource');
      assert.match(send.ctx.peer, /^127\.0\.0\.1:\d+$/);
      // What an ACL hook authenticates from: the signed date and the authorization header.
      const date = md1(send.ctx.metadata, 'x-mq-date-time');
      const auth = md1(send.ctx.metadata, 'authorization');
      const expected = createHmac('sha1', 'hook-sk').update(date).digest('hex').toUpperCase();
      assert.equal(auth, `MQv2-HMAC-SHA1 Credential=hook-ak, SignedHeaders=x-mq-date-time, Signature=${expected}`);
      assert.ok(md1(send.ctx.metadata, 'x-mq-client-id'));

      const telemetry = seen.before.filter((e) => e.ctx.method === 'Telemetry');
      assert.ok(telemetry.every((e) => e.ctx.requestStream && e.ctx.responseStream));
      assert.ok(telemetry.some((e) => e.request.settings), 'each Telemetry command goes through before');

      const ended = (name: string) => seen.after.filter((e) => e.ctx.method === name);
      const sendEnd = ended('SendMessage')[0];
      assert.ok(sendEnd, 'after saw SendMessage');
      assert.equal(sendEnd.ctx, send.ctx, 'after gets the context before got');
      assert.deepEqual([sendEnd.outcome.grpcCode, sendEnd.outcome.status?.code, sendEnd.outcome.refused], [grpc.status.OK, Code.OK, 0]);
      assert.ok(sendEnd.elapsedNs > 0n);
      const receiveEnd = ended('ReceiveMessage').find((e) => e.outcome.status?.code === Code.OK);
      assert.ok(receiveEnd, 'after saw the ReceiveMessage stream that delivered the message, with its v2 status');
      assert.equal(receiveEnd.ctx.responseStream, true);

      await clients.close();
      // Telemetry is a stream the client holds open until it shuts down.
      await checkFor(5000, 10, () => ended('Telemetry').length >= 2, 'after of both clients\' Telemetry streams');
    } finally {
      remove();
      await clients.close();
    }
    const count = seen.before.length;
    await rawClient(h.endpoints).unary('QueryRoute', { topic: { name: 'GHooks' } });
    assert.equal(seen.before.length, count, 'a removed hook sees nothing');
  });

  void test('proxy hooks - a refused SendMessage answers FORBIDDEN to the real producer and nothing is stored', async () => {
    const { hook, seen } = recordingHook();
    const refuser: GrpcHook = {
      before: (ctx, req: any) =>
        ctx.method === 'SendMessage' && req.messages?.[0]?.topic?.name === 'GHookDenied'
          ? { code: Code.FORBIDDEN, message: 'no PUB permission on topic GHookDenied' }
          : undefined,
    };
    const removeRefuser = h.g.addHook(refuser);
    const removeRecorder = h.g.addHook(hook);
    try {
      const p = await h.producer('GHookDenied');
      await assert.rejects(p.send({ topic: 'GHookDenied', body: Buffer.from('must not be stored') }), (err: Error & { code?: number }) => {
        assert.equal(err.code, Code.FORBIDDEN);
        assert.match(err.message, /no PUB permission on topic GHookDenied/);
        return true;
      });
      const refused = seen.after.filter((e) => e.ctx.method === 'SendMessage');
      assert.ok(refused.length >= 1);
      for (const e of refused) {
        assert.deepEqual([e.outcome.grpcCode, e.outcome.status?.code, e.outcome.refused], [grpc.status.OK, Code.FORBIDDEN, 1]);
      }
      assert.equal(
        seen.before.filter((e) => e.ctx.method === 'SendMessage').length,
        0,
        'the refusing hook comes first: later hooks do not run for a refused request',
      );
      removeRefuser();
      const allowed = await p.send({ topic: 'GHookDenied', body: Buffer.from('allowed') });
      const c = await h.simpleConsumer('g-hook-denied', { GHookDenied: '*' });
      const got = await receiveN(c, 2, 3000);
      assert.deepEqual(
        got.map((m) => [m.messageId, m.body.toString()]),
        [[allowed.messageId, 'allowed']],
        'only the message sent after the refusal was stored',
      );
    } finally {
      removeRefuser();
      removeRecorder();
    }
  });

  void test('proxy hooks - a refused ReceiveMessage stream answers UNAUTHORIZED to the real simple consumer', async () => {
    const remove = h.g.addHook({
      before: (ctx) => (ctx.method === 'ReceiveMessage' ? { code: Code.UNAUTHORIZED, message: 'no credentials for group g-hooks' } : undefined),
    });
    try {
      const c = await h.simpleConsumer('g-hooks', { GHooks: '*' });
      await assert.rejects(c.receive(1, 10_000), (err: Error & { code?: number }) => {
        assert.equal(err.code, Code.UNAUTHORIZED);
        assert.match(err.message, /no credentials for group g-hooks/);
        return true;
      });
    } finally {
      remove();
    }
  });

  void test('proxy hooks - a refused Telemetry command is answered with its status and the stream goes on', async () => {
    let first = true;
    const remove = h.g.addHook({
      before: (ctx) => {
        if (ctx.method !== 'Telemetry' || !first) return undefined;
        first = false;
        return { code: Code.UNAUTHORIZED, message: 'first command refused' };
      },
    });
    const Ctor = grpc.makeGenericClientConstructor(loadMessagingService(), 'MessagingService');
    const client = new Ctor(h.endpoints, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, (md: grpc.Metadata) => grpc.ClientDuplexStream<unknown, any>>;
    const md = new grpc.Metadata();
    md.set('x-mq-client-id', 'hooks-telemetry-client');
    const stream = client.Telemetry(md);
    const frames: any[] = [];
    stream.on('data', (f) => frames.push(f));
    stream.on('error', () => undefined);
    try {
      const settings = { settings: { clientType: 1, publishing: { topics: [{ name: 'GHooks' }] } } };
      stream.write(settings);
      await checkFor(3000, 5, () => frames.length >= 1, 'the refusal');
      assert.equal(frames[0].status?.code, Code.UNAUTHORIZED);
      assert.equal(frames[0].status?.message, 'first command refused');
      assert.equal(frames[0].settings, undefined, 'the refused command did not reach the handler');
      stream.write(settings);
      await checkFor(3000, 5, () => frames.length >= 2, 'the answer to the second command');
      assert.equal(frames[1].status?.code, Code.OK);
      assert.equal(frames[1].settings?.clientType, 1);
    } finally {
      remove();
      stream.end();
      client.close();
    }
  });
});

void describe('proxy grpc hooks that throw', () => {
  void test('proxy hooks - a throwing before refuses with INTERNAL_SERVER_ERROR (logged), a throwing after is logged; calls go on', async () => {
    const lines: { msg: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { msg: string });
        cb();
      },
    });
    let explode = true;
    const { hook, seen } = recordingHook();
    await using h = await GrpcHarness.start(
      {},
      {
        logger: pino({ level: 'error' }, sink),
        hooks: [
          {
            before: () => {
              if (explode) throw new Error('hook exploded\n    at stack');
            },
            after: () => {
              throw new Error('after exploded');
            },
          },
          hook,
        ],
      },
    );
    await createTopic(h.s, 'GHookThrow');
    const raw = rawClient(h.endpoints);
    try {
      const refused = await raw.unary('QueryRoute', { topic: { name: 'GHookThrow' } });
      assert.equal(refused.status.code, Code.INTERNAL_SERVER_ERROR);
      assert.equal(refused.status.message, 'QueryRoute refused: a request hook failed: hook exploded');
      explode = false;
      const ok = await raw.unary('QueryRoute', { topic: { name: 'GHookThrow' } });
      assert.equal(ok.status.code, Code.OK);
      assert.ok(ok.messageQueues.length > 0);
      // The throwing after hook did not keep the next one from seeing both calls end.
      assert.deepEqual(
        seen.after.map((e) => e.outcome.status?.code),
        [Code.INTERNAL_SERVER_ERROR, Code.OK],
      );
      await checkFor(3000, 5, () => lines.filter((l) => l.msg === 'gRPC response hook failed').length === 2, 'after failures logged');
      assert.equal(lines.filter((l) => l.msg === 'gRPC request hook failed').length, 1);
    } finally {
      raw.close();
    }
  });
});
