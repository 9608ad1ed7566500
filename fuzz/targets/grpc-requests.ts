// Every MessagingService method of the gRPC endpoint, over the network, with mutated protobuf
// request bytes (a raw grpc-js client with identity serializers, so the server decodes what was
// sent). Input: a method selector byte, then the request message. The endpoint must answer each
// call with a status: a gRPC error for bytes that are not the request message, otherwise a v2
// Status whose message says why. A call that outlives its deadline is a hang; a handler error the
// endpoint did not expect (logged as "gRPC handler failed", answered INTERNAL_SERVER_ERROR) or a
// dead server is a crash.
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import protobuf from 'protobufjs';
import { startGrpcProxy, type GrpcProxyHandle } from '../../src/proxy/index.js';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { startStandalone, type Standalone } from '../../test/helpers/standalone.js';
import { tokens } from '../mutator.js';
import type { Rand } from '../rand.js';
import { check, type FuzzTarget, type Verdict } from '../target.js';

const require = createRequire(import.meta.url);
const SERVICE = 'apache.rocketmq.v2.MessagingService';
const DEADLINE_MS = 10_000;
const INTERNAL_SERVER_ERROR = 50001;
const TOPIC = 'FuzzTopic';
const FIFO_TOPIC = 'FuzzFifo';
const GROUP = 'FuzzGroup';

interface Method {
  name: string;
  kind: 'unary' | 'server' | 'bidi';
  request: protobuf.Type;
  response: protobuf.Type;
}

let s: Standalone | undefined;
let g: GrpcProxyHandle | undefined;
let client: grpc.Client | undefined;
let methods: Method[] = [];
/** Error lines the endpoint logged since the last input. */
let logged: string[] = [];

function loadTypes(): protobuf.Root {
  const root = join(dirname(require.resolve('rocketmq-client-nodejs/package.json')), 'proto');
  const pb = new protobuf.Root();
  pb.resolvePath = (_origin, target) => (isAbsolute(target) || target.startsWith('google/protobuf/') ? target : join(root, target));
  pb.loadSync(join(root, 'apache/rocketmq/v2/service.proto'), { keepCase: false });
  return pb;
}

async function admin(st: Standalone, code: number, ext: Record<string, string | number>, body?: Buffer): Promise<void> {
  const rc = new RemotingClient();
  try {
    const resp = await rc.invoke(st.brokerAddr, createRequest(code, ext, body));
    if (resp.code !== ResponseCode.SUCCESS) throw new Error(`admin request ${code}: ${resp.code} ${resp.remark ?? ''}`);
  } finally {
    await rc.close();
  }
}

const now = { seconds: Math.floor(Date.now() / 1000), nanos: 0 };
const mq = { topic: { name: TOPIC }, id: 0, broker: { name: 'broker-a' } };
const MESSAGE = {
  topic: { name: TOPIC },
  body: Buffer.from('fuzz body'),
  userProperties: { k: 'v' },
  systemProperties: { tag: 't', keys: ['k1'], messageId: '01AABBCCDDEEFF0011223344556677', messageType: 1, bodyEncoding: 1, bornTimestamp: now, bornHost: '127.0.0.1' },
};

/** A request each method accepts, so mutants start deep inside the handlers. */
const REQUESTS: Record<string, object> = {
  QueryRoute: { topic: { name: TOPIC }, endpoints: { scheme: 1, addresses: [{ host: '127.0.0.1', port: 8081 }] } },
  Heartbeat: { group: { name: GROUP }, clientType: 2 },
  SendMessage: { messages: [MESSAGE, { ...MESSAGE, topic: { name: FIFO_TOPIC }, systemProperties: { ...MESSAGE.systemProperties, messageType: 2, messageGroup: 'mg' } }] },
  QueryAssignment: { topic: { name: TOPIC }, group: { name: GROUP }, endpoints: { scheme: 1, addresses: [{ host: '127.0.0.1', port: 8081 }] } },
  ReceiveMessage: { group: { name: GROUP }, messageQueue: mq, filterExpression: { type: 1, expression: 't || u' }, batchSize: 4, invisibleDuration: { seconds: 15 }, autoRenew: false, longPollingTimeout: { nanos: 50_000_000 } },
  AckMessage: { group: { name: GROUP }, topic: { name: TOPIC }, entries: [{ messageId: 'id', receiptHandle: `p1 ${TOPIC} 0 0 1 ${Date.now() + 60_000}` }] },
  ForwardMessageToDeadLetterQueue: { group: { name: GROUP }, topic: { name: TOPIC }, receiptHandle: `p1 ${TOPIC} 0 0 1 1`, messageId: 'id', deliveryAttempt: 1, maxDeliveryAttempts: 16 },
  PullMessage: { group: { name: GROUP }, messageQueue: mq, offset: 0, batchSize: 4, filterExpression: { type: 2, expression: 'a > 1' } },
  UpdateOffset: { group: { name: GROUP }, messageQueue: mq, offset: 1 },
  GetOffset: { group: { name: GROUP }, messageQueue: mq },
  QueryOffset: { messageQueue: mq, queryOffsetPolicy: 2, timestamp: now },
  EndTransaction: { topic: { name: TOPIC }, messageId: 'id', transactionId: 'tx', resolution: 1, source: 1, traceContext: '' },
  Telemetry: { settings: { clientType: 1, requestTimeout: { seconds: 3 }, publishing: { topics: [{ name: TOPIC }], maxBodySize: 4096, validateMessageType: true } } },
  NotifyClientTermination: { group: { name: GROUP } },
  ChangeInvisibleDuration: { group: { name: GROUP }, topic: { name: TOPIC }, receiptHandle: `p1 ${TOPIC} 0 0 1 1`, invisibleDuration: { seconds: 20 }, messageId: 'id' },
  RecallMessage: { topic: { name: TOPIC }, recallHandle: Buffer.from(`v1 ${TOPIC} broker-a ${Date.now() + 60_000} 01AB`).toString('base64url') },
  SyncLiteSubscription: {},
};

function encode(m: Method, obj: object): Buffer {
  const bytes = m.request.encode(m.request.fromObject(obj)).finish();
  return Buffer.concat([Buffer.from([methods.indexOf(m)]), Buffer.from(bytes)]);
}

/** The v2 Status of an answer, if it carries one. */
function statusOf(m: Method, bytes: Buffer): { code?: number; message?: string } | undefined {
  const msg = m.response.decode(bytes) as unknown as { status?: { code?: number; message?: string } };
  return msg.status ?? undefined;
}

interface Answer {
  grpcCode: number;
  details: string;
  statuses: { code?: number; message?: string }[];
}

function call(m: Method, payload: Buffer): Promise<Answer> {
  const c = client!;
  const path = `/${SERVICE}/${m.name}`;
  const md = new grpc.Metadata();
  md.set('x-mq-client-id', 'fuzz-client');
  md.set('x-mq-protocol', 'v2');
  const options = { deadline: Date.now() + DEADLINE_MS };
  const id = (b: Buffer): Buffer => b;
  return new Promise((resolve) => {
    const statuses: Answer['statuses'] = [];
    const onData = (b: Buffer): void => {
      const st = statusOf(m, b);
      if (st) statuses.push(st);
    };
    if (m.kind === 'unary') {
      c.makeUnaryRequest(path, id, id, payload, md, options, (err, res) => {
        if (err) resolve({ grpcCode: err.code, details: err.details, statuses });
        else {
          if (res) onData(res);
          resolve({ grpcCode: grpc.status.OK, details: '', statuses });
        }
      });
      return;
    }
    const stream = m.kind === 'server' ? c.makeServerStreamRequest(path, id, id, payload, md, options) : c.makeBidiStreamRequest(path, id, id, md, options);
    stream.on('data', onData);
    stream.on('error', () => undefined);
    stream.on('status', (st: grpc.StatusObject) => resolve({ grpcCode: st.code, details: st.details, statuses }));
    if (m.kind === 'bidi') {
      const duplex = stream as grpc.ClientDuplexStream<Buffer, Buffer>;
      duplex.write(payload);
      duplex.end();
    }
  });
}

const NAMES = [TOPIC, FIFO_TOPIC, GROUP, '', '%RETRY%FuzzGroup', 'TBW102', 'RMQ_SYS_TRANS_HALF_TOPIC', 'T'.repeat(300), 'a b', '\u0000', 'broker-a'];
const NUMBERS = [0, -1, 1, 2147483647, -2147483648, 4294967295, Number.MAX_SAFE_INTEGER, 32, 33];

function randomize(r: Rand, v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return r.chance(0.3) ? r.pick(NAMES) : v;
  if (typeof v === 'number') return r.chance(0.3) ? r.pick(NUMBERS) : v;
  if (typeof v === 'boolean') return r.chance(0.3) ? !v : v;
  if (Buffer.isBuffer(v) || depth > 6) return v;
  if (Array.isArray(v)) return r.chance(0.2) ? [] : v.map((x) => randomize(r, x, depth + 1));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!r.chance(0.1)) out[k] = randomize(r, x, depth + 1);
    return out;
  }
  return v;
}

export const grpcRequestsTarget: FuzzTarget = {
  name: 'grpc-requests',
  description: 'every MessagingService method over the wire with mutated request bytes: a status every time, no handler error, no hang',
  weight: 1,
  timeBoundMs: 3000,
  maxInputLength: 4096,
  async setup() {
    s = await startStandalone({ enablePropertyFilter: true, maxMessageSize: 4096 });
    await admin(s, RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: TOPIC, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
    await admin(s, RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: FIFO_TOPIC, readQueueNums: 2, writeQueueNums: 2, perm: 6, attributes: '+message.type=FIFO' });
    await admin(s, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, Buffer.from(JSON.stringify({ groupName: GROUP, retryMaxTimes: 2 })));
    logged = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
    g = await startGrpcProxy(s.controller, { host: '127.0.0.1', port: 0, logger, minInvisibleTimeMsForReceive: 1000, maxLongPollingTimeoutMs: 100 });
    client = new grpc.Client(g.address, grpc.credentials.createInsecure());
    const pb = loadTypes();
    const svc = pb.lookupService(SERVICE);
    methods = svc.methodsArray.map((md) => ({
      name: md.name,
      kind: md.requestStream ? 'bidi' : md.responseStream ? 'server' : 'unary',
      request: pb.lookupType(md.requestType),
      response: pb.lookupType(md.responseType),
    }));
  },
  async teardown() {
    client?.close();
    await g?.close();
    await s?.close();
    client = undefined;
    g = undefined;
    s = undefined;
  },
  seeds: () => methods.map((m) => encode(m, REQUESTS[m.name] ?? {})),
  dictionary: () => tokens(TOPIC, FIFO_TOPIC, GROUP, 'p1 ', '%RETRY%', Buffer.from([0x0a, 0x00]), Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0x0f]), Buffer.from([0x12, 0x7f])),
  generate(r: Rand): Buffer {
    const m = r.pick(methods);
    try {
      return encode(m, randomize(r, REQUESTS[m.name] ?? {}) as object);
    } catch {
      // A value protobufjs refuses to encode (out of range for its field): send the seed instead.
      return encode(m, REQUESTS[m.name] ?? {});
    }
  },
  async run(input: Buffer): Promise<Verdict> {
    const m = methods[(input[0] ?? 0) % methods.length];
    logged = [];
    const a = await call(m, input.subarray(1));
    check(logged.length === 0, () => `${m.name}: the endpoint logged an error: ${logged[0].slice(0, 400)}`);
    check(a.grpcCode !== grpc.status.DEADLINE_EXCEEDED, `${m.name}: no answer within ${DEADLINE_MS} ms`);
    check(a.grpcCode !== grpc.status.UNAVAILABLE, () => `${m.name}: endpoint unavailable: ${a.details}`);
    check(a.grpcCode !== grpc.status.UNKNOWN, () => `${m.name}: a handler threw: ${a.details}`);
    if (a.grpcCode !== grpc.status.OK) {
      // Bytes that are not the request message: grpc-js answers INTERNAL naming the failure.
      check(a.details.length > 0, () => `${m.name}: gRPC status ${a.grpcCode} without details`);
      return 'rejected';
    }
    for (const st of a.statuses) {
      check(st.code !== INTERNAL_SERVER_ERROR, () => `${m.name}: INTERNAL_SERVER_ERROR: ${st.message}`);
      check((st.message ?? '').length > 0, () => `${m.name}: status ${st.code} without a message`);
    }
    return a.statuses.every((st) => st.code === 20000 || st.code === 30000) ? 'accepted' : 'rejected';
  },
};
