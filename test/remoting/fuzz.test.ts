import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { checkFor } from '../helpers/check-for.js';
import {
  createRequest,
  createResponse,
  encodeCommandToBuffer,
  RemotingClient,
  RemotingServer,
  RequestCode,
  ResponseCode,
  SerializeType,
} from '../../src/remoting/index.js';

const INPUTS = 2000;
const PARALLEL = 40;
const BUDGET_MS = 15_000;

/** mulberry32: small seeded PRNG so a failing run can be replayed with FUZZ_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function validFrames(): Buffer[] {
  const ext = { a: 'g', b: 'TopicTest', e: '3', i: 'TAGS\u0001t\u0002' };
  return [
    encodeCommandToBuffer(createRequest(RequestCode.SEND_MESSAGE_V2, ext, Buffer.alloc(64, 0x61))),
    encodeCommandToBuffer({ ...createRequest(RequestCode.SEND_MESSAGE_V2, ext, Buffer.alloc(10)), serializeType: SerializeType.ROCKETMQ }),
    encodeCommandToBuffer({ ...createRequest(RequestCode.PULL_MESSAGE, { topic: 'T' }), remark: 'r', serializeType: SerializeType.ROCKETMQ }),
    encodeCommandToBuffer(createRequest(9999, { x: '1' })),
  ];
}

function mutate(rand: () => number, frames: Buffer[]): { bytes: Buffer; kind: string } {
  const int = (n: number): number => Math.floor(rand() * n);
  const base = Buffer.from(frames[int(frames.length)]);
  switch (int(8)) {
    case 0: {
      const b = Buffer.alloc(int(300));
      for (let i = 0; i < b.length; i++) b[i] = int(256);
      return { bytes: b, kind: 'random bytes' };
    }
    case 1: {
      for (let n = 1 + int(4); n > 0; n--) {
        const p = int(base.length);
        base[p] ^= 1 << int(8);
      }
      return { bytes: base, kind: 'bit flips' };
    }
    case 2:
      return { bytes: base.subarray(0, int(base.length)), kind: 'truncation' };
    case 3:
      base.writeInt32BE((int(0x100000000) - 0x80000000) | 0, 0);
      return { bytes: base, kind: 'length word' };
    case 4:
      base.writeInt32BE([0x7fffffff, 16 * 1024 * 1024 + 1, -1, -2147483648, 0, 3][int(6)], 0);
      return { bytes: base, kind: 'huge or tiny length' };
    case 5:
      base.writeUInt32BE(int(0x100000000), 4);
      return { bytes: base, kind: 'header length word' };
    case 6: {
      const p = 8 + int(Math.max(1, base.length - 8));
      for (let i = p; i < Math.min(base.length, p + 8); i++) base[i] = int(256);
      return { bytes: base, kind: 'header bytes' };
    }
    default: {
      const tail = Buffer.alloc(1 + int(40));
      for (let i = 0; i < tail.length; i++) tail[i] = int(256);
      return { bytes: Buffer.concat([base, tail]), kind: 'valid frame then garbage' };
    }
  }
}

/** Writes one input on its own connection, half-closes, waits for the server to finish with it. */
function throwAt(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => s.destroy(), 3000);
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    s.once('connect', () => s.end(bytes));
  });
}

void test('fuzz - random and mutated frames never crash the server; only the bad connection closes', async (t) => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 0x7fffffff);
  t.diagnostic(`FUZZ_SEED=${seed}`);
  const rand = prng(seed);
  const server = new RemotingServer({ host: '127.0.0.1', port: 0 });
  server.registerProcessor(RequestCode.SEND_MESSAGE_V2, (req) =>
    createResponse(ResponseCode.SUCCESS, undefined, { topic: req.extFields.b }, req.body),
  );
  server.registerProcessor(RequestCode.PULL_MESSAGE, () => createResponse(ResponseCode.PULL_NOT_FOUND, 'none'));
  const { port } = await server.listen();
  const addr = `127.0.0.1:${port}`;
  const good = new RemotingClient();
  try {
    const goodConn = await good.connection(addr);
    const frames = validFrames();
    const kinds = new Map<string, number>();
    const inputs = Array.from({ length: INPUTS }, () => mutate(rand, frames));
    for (const { kind } of inputs) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    const deadline = Date.now() + BUDGET_MS;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < inputs.length && Date.now() < deadline) {
        const { bytes } = inputs[next++];
        await throwAt(port, bytes);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    t.diagnostic(`inputs thrown: ${next} (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')})`);
    assert.ok(next >= INPUTS / 2, `only ${next} inputs within ${BUDGET_MS} ms (seed ${seed})`);

    // The connection that stayed well-behaved all along is untouched and answers correctly.
    assert.equal(goodConn.closed, false, `good connection closed (seed ${seed})`);
    const res = await good.invoke(addr, createRequest(RequestCode.SEND_MESSAGE_V2, { b: 'After' }, Buffer.from('ok')));
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.equal(res.extFields.topic, 'After');
    assert.equal(await good.connection(addr), goodConn);

    // Every fuzz connection is gone; a fresh client still gets answers.
    await checkFor(5000, 10, () => server.connections.size === 1, 'fuzz connections to close');
    const fresh = new RemotingClient({ serializeType: SerializeType.ROCKETMQ });
    try {
      const r = await fresh.invoke(addr, createRequest(RequestCode.PULL_MESSAGE, { topic: 'T' }));
      assert.equal(r.code, ResponseCode.PULL_NOT_FOUND);
      assert.equal(r.remark, 'none');
    } finally {
      await fresh.close();
    }
  } finally {
    await good.close();
    await server.close();
  }
});

void test('fuzz - the server closes a connection by itself on a bad length word, without waiting for more bytes', async () => {
  const server = new RemotingServer({ host: '127.0.0.1', port: 0 });
  const { port } = await server.listen();
  try {
    for (const word of [-1, 0x7fffffff, 16 * 1024 * 1024 + 1, 2]) {
      const s = connect({ host: '127.0.0.1', port });
      s.on('error', () => undefined);
      await new Promise<void>((resolve) => s.once('connect', resolve));
      const closed = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 3000);
        s.once('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      const b = Buffer.alloc(4);
      b.writeInt32BE(word);
      s.write(b); // no end(): the server must close on its own
      assert.equal(await closed, true, `length word ${word}`);
      s.destroy();
    }
  } finally {
    await server.close();
  }
});
