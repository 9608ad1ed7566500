// Issue 15 part B: the gRPC endpoint's edge. A flood of connections from one address, an oversized
// request and a client that never reads its responses are each refused or cut off while other
// 5.x clients keep being served, and memory stays bounded (measured); unary calls get a server-side
// time limit besides the client's deadline.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as grpc from '@grpc/grpc-js';
import { loadConfig } from '../../src/config/index.js';
import { Code } from '../../src/proxy/grpc-code.js';
import { loadMessagingService } from '../../src/proxy/proto.js';
import { checkFor } from '../helpers/check-for.js';
import { createGroup, createTopic, GrpcHarness, quietClientLogger, rawClient, receiveN, rmq } from '../compat/helpers/grpc.js';
import { flood } from './helpers.js';

// A collection on demand, to measure what stays held rather than what is not yet collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Memory after collections, once V8's background sweeper has returned what they freed. */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 20; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const m = process.memoryUsage();
    const held = m.external + m.arrayBuffers;
    if (held >= last) return m;
    last = held;
  }
  return process.memoryUsage();
}

/** A 5.x producer and simple consumer round trip: the endpoint still serves ordinary clients. */
async function roundTrip(h: GrpcHarness, topic: string, group: string): Promise<void> {
  const p = await h.producer(topic);
  const c = await h.simpleConsumer(group, { [topic]: '*' });
  const sent = await p.send({ topic, body: Buffer.from('still served') });
  const [m] = await receiveN(c, 1, 10_000);
  assert.equal(m?.messageId, sent.messageId);
  await h.shutdown(c);
  await h.shutdown(p);
}

/**
 * A TCP forwarder whose connections to the server come from `localAddress` and that, once
 * stalled, stops reading what the server sends: the server sees a client that never reads.
 */
async function stallingForwarder(target: string, localAddress: string): Promise<{ address: string; stall(): void; close(): void }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const ups: Socket[] = [];
  const downs: Socket[] = [];
  let stalled = false;
  const server: Server = createServer((down) => {
    const up = connect({ host, port, localAddress });
    ups.push(up);
    downs.push(down);
    for (const s of [up, down]) s.on('error', () => undefined);
    down.on('data', (c: Buffer) => up.write(c));
    up.on('data', (c: Buffer) => down.write(c));
    if (stalled) up.pause();
    up.once('close', () => down.destroy());
    down.once('close', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  return {
    address: `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`,
    stall: () => {
      stalled = true;
      for (const u of ups) u.pause();
    },
    close: () => {
      server.close();
      for (const s of [...ups, ...downs]) s.destroy();
    },
  };
}

void describe('gRPC edge limits', () => {
  void test('gRPC edge - the keys exist with sane defaults on the broker and apogee proxy (issue 15)', () => {
    for (const role of ['broker', 'proxy'] as const) {
      const c = loadConfig(role);
      assert.equal(c.grpcMaxInboundMessageSize, 16 * 1024 * 1024);
      assert.equal(c.grpcMaxConnectionsPerAddress, 1024);
      assert.equal(c.grpcMaxConcurrentStreams, 1024);
      assert.equal(c.grpcMaxPendingWriteBytes, 64 * 1024 * 1024);
      assert.equal(c.grpcClientIdleTimeMills, 120_000);
      assert.equal(c.grpcKeepaliveTimeMills, 60_000);
      assert.equal(c.serverRequestTimeoutMillis, 30_000);
    }
  });

  void test('gRPC edge - a connection flood from one address is capped and an oversized request is refused with RESOURCE_EXHAUSTED; other clients are served (issue 15)', async () => {
    await using h = await GrpcHarness.start({ grpcMaxConnectionsPerAddress: 20, grpcMaxInboundMessageSize: 1024 * 1024 });
    await createTopic(h.s, 'EdgeTopic', 'NORMAL');
    await createGroup(h.s, 'edge-g');
    const port = Number(h.endpoints.split(':')[1]);
    const f = await flood(port, 60);
    try {
      await checkFor(5000, 20, () => f.closedByServer() === 40, `40 of 60 connections closed (got ${f.closedByServer()})`);
      assert.equal(h.g.edgeStats.refusedConnections, 40);
      await roundTrip(h, 'EdgeTopic', 'edge-g');

      const p = new rmq.Producer({ endpoints: h.endpoints, namespace: '', logger: quietClientLogger, topic: 'EdgeTopic', maxAttempts: 1 });
      await p.startup();
      try {
        const err = await p.send({ topic: 'EdgeTopic', body: Buffer.alloc(2 * 1024 * 1024, 1) }).then(
          () => assert.fail('a 2 MiB request passed a 1 MiB limit'),
          (e: Error) => e,
        );
        assert.match(err.message, /larger than max/i);
        const raw = rawClient(h.endpoints);
        try {
          const e = (await raw.unary('SendMessage', { messages: [{ topic: { name: 'EdgeTopic' }, body: Buffer.alloc(1536 * 1024), systemProperties: { messageId: 'x' } }] }).catch((x: grpc.ServiceError) => x)) as grpc.ServiceError;
          assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);
          assert.match(e.details, /larger than max \(\d+ vs\.? 1048576\)/);
        } finally {
          raw.close();
        }
        const ok = await p.send({ topic: 'EdgeTopic', body: Buffer.alloc(512 * 1024, 2) });
        assert.ok(ok.messageId);
      } finally {
        await p.shutdown().catch(() => undefined);
      }
    } finally {
      f.destroy();
    }
  });

  void test('gRPC edge - a client that never reads its responses is cut off at grpcMaxPendingWriteBytes; memory stays bounded (issue 15)', async () => {
    const limit = 4 * 1024 * 1024;
    const bounded = await slowReader(limit);
    // The same client against a bound it never reaches: what the server holds for it meanwhile.
    const unbounded = await slowReader(1024 * 1024 * 1024);
    console.log(
      `# gRPC slow reader, 100 unread 1 MiB answers: held ${bounded.heldMiB.toFixed(1)} MiB with grpcMaxPendingWriteBytes=4 MiB (cut off), ${unbounded.heldMiB.toFixed(1)} MiB with 1 GiB (not cut)`,
    );
    assert.equal(bounded.cut, 1);
    assert.equal(unbounded.cut, 0);
    assert.ok(bounded.heldMiB < 16, `held ${bounded.heldMiB.toFixed(1)} MiB after the cut`);
    assert.ok(unbounded.heldMiB > 50, `the control held only ${unbounded.heldMiB.toFixed(1)} MiB: the scenario does not load the server`);
  });

  void test('gRPC edge - a unary call the server cannot answer within serverRequestTimeoutMillis gets PROXY_TIMEOUT naming the limit; the client deadline applies too (issue 15)', async () => {
    await using h = await GrpcHarness.start({ serverRequestTimeoutMillis: 300 });
    await createTopic(h.s, 'EdgeStuck', 'NORMAL');
    // The backend stands for a broker that stopped answering: its route lookups never return.
    const backend = h.g.context.backend as unknown as { brokersOf: (t: string) => Promise<unknown> };
    const real = backend.brokersOf.bind(backend);
    let stuck = true;
    backend.brokersOf = (t) => (stuck ? new Promise(() => undefined) : real(t));
    const raw = rawClient(h.endpoints);
    try {
      const started = Date.now();
      const r = await raw.unary('QueryRoute', { topic: { name: 'EdgeStuck' }, endpoints: { scheme: 1, addresses: [{ host: '127.0.0.1', port: 1 }] } });
      assert.equal(r.status.code, Code.PROXY_TIMEOUT);
      assert.match(r.status.message, /QueryRoute not answered within serverRequestTimeoutMillis=300 ms/);
      assert.ok(Date.now() - started < 5000);
      assert.equal(h.g.edgeStats.timedOutCalls, 1);
      // The client's deadline, shorter than the server's limit, ends the call first (grpc-js' own timer).
      const Ctor = grpc.makeGenericClientConstructor(loadMessagingService(), 'MessagingService');
      const direct = new Ctor(h.endpoints, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, (...a: unknown[]) => void>;
      try {
        const md = new grpc.Metadata();
        md.set('x-mq-client-id', 'edge-deadline');
        const e = await new Promise<grpc.ServiceError | null>((resolve) => {
          direct.QueryRoute.call(direct, { topic: { name: 'EdgeStuck' } }, md, { deadline: Date.now() + 100 }, (err: grpc.ServiceError | null) => resolve(err));
        });
        assert.equal(e?.code, grpc.status.DEADLINE_EXCEEDED);
      } finally {
        direct.close();
      }
      stuck = false;
      const ok = await raw.unary('QueryRoute', { topic: { name: 'EdgeStuck' }, endpoints: { scheme: 1, addresses: [{ host: '127.0.0.1', port: 1 }] } });
      assert.equal(ok.status.code, Code.OK);
    } finally {
      raw.close();
    }
  });
});

/**
 * A 5.x-style client behind a forwarder that stops reading: 100 pulls of one 1 MiB message. Returns
 * the external memory still held (after collections) once the connection was cut or, without a
 * cut, once the server has stopped growing, and the number of cuts.
 */
async function slowReader(limit: number): Promise<{ heldMiB: number; cut: number }> {
  await using h = await GrpcHarness.start({ grpcMaxPendingWriteBytes: limit });
  await createTopic(h.s, 'EdgeSlow', 'NORMAL', 1);
  await createTopic(h.s, 'EdgeOthers', 'NORMAL');
  await createGroup(h.s, 'edge-slow-g');
  const p = await h.producer('EdgeSlow');
  await p.send({ topic: 'EdgeSlow', body: Buffer.alloc(1024 * 1024, 3) });
  await h.shutdown(p);
  const fwd = await stallingForwarder(h.endpoints, '127.0.0.3');
  const raw = rawClient(fwd.address);
  let heldMiB: number;
  try {
    const pull = { group: { name: 'edge-slow-g' }, messageQueue: { topic: { name: 'EdgeSlow' }, id: 0 }, offset: 0, batchSize: 1, filterExpression: { type: 1, expression: '*' } };
    assert.equal((await raw.stream('PullMessage', pull)).length, 3, 'status, the message, the next offset');
    fwd.stall();
    const before = await settledMemory();
    const held = async (): Promise<number> => {
      const m = await settledMemory();
      return (m.external + m.arrayBuffers - before.external - before.arrayBuffers) / 1048576;
    };
    // Settled to a count, so the test itself keeps none of the answers.
    const streams = Array.from({ length: 100 }, () => raw.stream('PullMessage', pull).then((f) => f.length, () => 0));
    if (limit < 1024 * 1024 * 1024) {
      await checkFor(20_000, 20, () => h.g.edgeStats.cutSlowReaders === 1 && h.g.connectionsFrom('127.0.0.3') === 0, 'the non-reading connection is cut off');
      await Promise.all(streams);
      heldMiB = await held();
    } else {
      let last = -1;
      heldMiB = 0;
      // Until two looks a little apart agree: every pull has been read and answered.
      await checkFor(20_000, 200, async () => {
        heldMiB = await held();
        const steady = heldMiB > 1 && Math.abs(heldMiB - last) < 1;
        last = heldMiB;
        return steady;
      }, 'the server stops growing');
    }
  } finally {
    raw.close();
    fwd.close();
  }
  // Whatever happened to that client, others are served.
  await roundTrip(h, 'EdgeOthers', 'edge-slow-g');
  return { heldMiB, cut: h.g.edgeStats.cutSlowReaders };
}
