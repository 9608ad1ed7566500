// Per-call protobuf cost of the hot unary methods (issue 17), in one process (CPU time, so less
// sensitive to other jobs than end-to-end figures): proto-loader's own serializer/deserializer
// (fromObject + encode, decode + toObject) against the direct protobufjs paths the broker now
// installs (src/proxy/proto.ts). Best of --rounds rounds of --n calls each.
//   node --import tsx bench/grpc/proto-codec-bench.ts [--n 200000] [--rounds 5]
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { loadMessagingService } from '../../src/proxy/proto.js';
import { benchArgs } from '../helpers/args.js';

const args = benchArgs();
const N = args.num('n', 200_000);
const ROUNDS = args.num('rounds', 5);
if (!(N >= 1000 && N <= 10_000_000 && ROUNDS >= 1 && ROUNDS <= 50)) throw new Error('--n in [1000, 1e7], --rounds in [1, 50]');
const require = createRequire(import.meta.url);
const root = join(dirname(require.resolve('rocketmq-client-nodejs/package.json')), 'proto');
const ref = protoLoader.loadSync(join(root, 'apache/rocketmq/v2/service.proto'), { includeDirs: [root], keepCase: false, longs: Number, enums: Number, defaults: false, oneofs: true })[
  'apache.rocketmq.v2.MessagingService'
] as unknown as Record<string, grpc.MethodDefinition<unknown, unknown>>;
const mine = loadMessagingService() as unknown as Record<string, grpc.MethodDefinition<unknown, unknown>>;

const ok = { code: 20000, message: 'OK' };
const sendAnswer = { status: ok, entries: [{ status: ok, messageId: '01C0A80001000078A3C8A1B2C3D4E5F6', transactionId: '01C0A80001000078A3C8A1B2C3D4E5F6', offset: 123456, recallHandle: '' }] };
const ackAnswer = { status: ok, entries: [{ messageId: '01C0A80001000078A3C8A1B2C3D4E5F6', receiptHandle: 'p1 BenchTopic 3 123456 7 1796311627185', status: ok }] };
const ackRequest = ref.AckMessage.requestSerialize({ group: { name: 'GID_bench' }, topic: { name: 'BenchTopic' }, entries: [{ messageId: '01C0A80001000078A3C8A1B2C3D4E5F6', receiptHandle: 'p1 BenchTopic 3 123456 7 1796311627185' }] });

function time(fn: () => unknown): number {
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) fn();
    const c = process.cpuUsage(c0);
    best = Math.min(best, ((c.user + c.system) * 1000) / N);
  }
  return best;
}

console.log(`proto-codec-bench: best of ${ROUNDS} × ${N}; node ${process.version}; load ${loadavg()[0].toFixed(2)}`);
const cases: [string, () => unknown, () => unknown][] = [
  ['SendMessageResponse encode', () => ref.SendMessage.responseSerialize(sendAnswer), () => mine.SendMessage.responseSerialize(sendAnswer)],
  ['AckMessageResponse encode', () => ref.AckMessage.responseSerialize(ackAnswer), () => mine.AckMessage.responseSerialize(ackAnswer)],
  ['AckMessageRequest decode', () => ref.AckMessage.requestDeserialize(ackRequest), () => mine.AckMessage.requestDeserialize(ackRequest)],
];
console.log('| case | proto-loader ns/call | direct ns/call |\n| --- | --: | --: |');
for (const [name, a, b] of cases) console.log(`| ${name} | ${time(a).toFixed(0)} | ${time(b).toFixed(0)} |`);
