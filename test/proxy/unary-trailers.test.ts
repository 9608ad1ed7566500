// A unary answer's OK status sent right after the answer (issue 17, src/proxy/unary-trailers.ts and
// the call hooks' layer): the client still gets each call's own answer with OK, an error answer
// keeps its code, an answer that cannot be serialized ends INTERNAL (never an OK without a
// message), streaming calls keep their status after their last message, and the hooks' `after`
// sees what the client saw. Each wiring of the endpoint is one row of the table.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../../src/common/logger.js';
import { GrpcHooks, type GrpcCallOutcome } from '../../src/proxy/grpc-hooks.js';
import { unaryTrailersInterceptor } from '../../src/proxy/unary-trailers.js';
import { checkFor } from '../helpers/check-for.js';

interface Msg {
  v: number;
}

const serialize = (m: Msg): Buffer => {
  if (m.v < 0) throw new Error('negative values cannot be serialized');
  return Buffer.from(JSON.stringify(m));
};
const deserialize = (b: Buffer): Msg => JSON.parse(b.toString()) as Msg;
const method = (name: string, responseStream: boolean): grpc.MethodDefinition<Msg, Msg> => ({
  path: `/test.Trailers/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: serialize,
  requestDeserialize: deserialize,
  responseSerialize: serialize,
  responseDeserialize: deserialize,
});
const SERVICE = { Echo: method('Echo', false), Fail: method('Fail', false), Unserializable: method('Unserializable', false), Count: method('Count', true) };

interface Row {
  name: string;
  interceptors(outcomes: { method: string; outcome: GrpcCallOutcome }[]): grpc.ServerInterceptor[];
  hooked: boolean;
}

const ROWS: Row[] = [
  { name: 'no hooks, the trailers interceptor alone', interceptors: () => [unaryTrailersInterceptor()], hooked: false },
  {
    name: 'the hooks layer with a hook',
    interceptors: (outcomes) => {
      const hooks = new GrpcHooks(silentLogger);
      hooks.add({ afterMs: (ctx, outcome) => void outcomes.push({ method: ctx.method, outcome }) });
      return [hooks.interceptor({ unaryTrailers: true })];
    },
    hooked: true,
  },
  { name: 'the hooks layer without hooks', interceptors: () => [new GrpcHooks(silentLogger).interceptor({ unaryTrailers: true })], hooked: false },
];

async function serve(interceptors: grpc.ServerInterceptor[]): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({ interceptors, 'grpc.enable_channelz': 0 });
  server.addService(SERVICE, {
    Echo: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      // Some answers at once, some a turn later: both orders of answer and status must hold.
      if (call.request.v % 2 === 0) cb(null, { v: call.request.v * 10 });
      else setImmediate(() => cb(null, { v: call.request.v * 10 }));
    },
    Fail: (_call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' }),
    Unserializable: (_call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => cb(null, { v: -1 }),
    Count: (call: grpc.ServerWritableStream<Msg, Msg>) => {
      for (let i = 0; i < call.request.v; i++) call.write({ v: i });
      call.end();
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port };
}

type Unary = (req: Msg, cb: (err: grpc.ServiceError | null, res?: Msg) => void) => void;
type Streaming = (req: Msg) => grpc.ClientReadableStream<Msg>;

function call(c: Record<string, unknown>, name: string, v: number): Promise<{ err: grpc.ServiceError | null; res?: Msg }> {
  return new Promise((resolve) => (c[name] as Unary).call(c, { v }, (err, res) => resolve({ err, res })));
}

void describe('proxy unary trailers', () => {
  for (const row of ROWS) {
    void test(`unary trailers - answers, errors, unserializable answers and streams keep their status (${row.name}) (issue 17)`, async () => {
      const outcomes: { method: string; outcome: GrpcCallOutcome }[] = [];
      const { server, port } = await serve(row.interceptors(outcomes));
      const Ctor = grpc.makeGenericClientConstructor(SERVICE, 'Trailers');
      const c = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, unknown>;
      try {
        // Many calls at once on one connection: each gets its own answer, with OK.
        const n = 200;
        const answers = await Promise.all(Array.from({ length: n }, (_, i) => call(c, 'Echo', i)));
        answers.forEach((a, i) => {
          assert.equal(a.err, null, `call ${i}: ${a.err?.message}`);
          assert.deepEqual(a.res, { v: i * 10 });
        });

        const failed = await call(c, 'Fail', 1);
        assert.equal(failed.err?.code, grpc.status.NOT_FOUND);
        assert.equal(failed.err?.details, 'no such thing');

        const unserializable = await call(c, 'Unserializable', 1);
        assert.equal(unserializable.err?.code, grpc.status.INTERNAL, 'an answer that cannot be serialized must not end OK');

        const frames: Msg[] = [];
        const streamed = await new Promise<grpc.StatusObject>((resolve, reject) => {
          const s = (c.Count as Streaming).call(c, { v: 5 });
          s.on('data', (m: Msg) => frames.push(m));
          s.on('error', reject);
          s.on('status', resolve);
        });
        assert.equal(streamed.code, grpc.status.OK);
        assert.deepEqual(
          frames.map((f) => f.v),
          [0, 1, 2, 3, 4],
        );

        if (row.hooked) {
          // `after` runs once the call is over, a little after the client has its answer.
          await checkFor(5000, 20, () => outcomes.length === n + 3);
          const of = (m: string): number[] => outcomes.filter((o) => o.method === m).map((o) => o.outcome.grpcCode);
          assert.deepEqual(new Set(of('Echo')), new Set([grpc.status.OK]));
          assert.equal(of('Echo').length, n);
          assert.deepEqual(of('Fail'), [grpc.status.NOT_FOUND]);
          // grpc-js ends the call itself when serialization fails: the hooks see it end from below.
          assert.deepEqual(of('Unserializable'), [grpc.status.CANCELLED]);
          assert.deepEqual(of('Count'), [grpc.status.OK]);
        }
      } finally {
        c.close();
        server.forceShutdown();
      }
    });
  }
});
