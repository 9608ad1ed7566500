// What the broker-side trace adds per event on the event loop, measured in one process without a
// broker (issue 13): BrokerTraceWriter fed synthetic hook events (stores spread over 8 queues and
// 4 producers, pulls of 32 records, offset commits, pop acks), batches written to a sink that only
// counts them. Prints ns per event and per message and the trace bytes written per message. Its
// figures hold still on a busy machine, where the end-to-end trace-bench.ts cannot.
//
//   node --import tsx bench/trace/hook-cost.ts [--events 1000000]
import type { AckedEvent, DeliveredEvent, StoredEvent } from '../../src/observability/broker-events.js';
import { BrokerTraceWriter } from '../../src/observability/trace/broker-trace-writer.js';

const events = Number(process.argv[process.argv.indexOf('--events') + 1] || 1_000_000);
if (!(events >= 1000 && events <= 50_000_000)) throw new Error('--events 1000..50000000');

let bytes = 0;
let batches = 0;
const writer = new BrokerTraceWriter({
  sink: (body, keys) => {
    bytes += Buffer.byteLength(body) + keys.join(' ').length;
    batches++;
  },
  flushIntervalMs: 3_600_000,
  delayLevelsMs: [1000, 5000, 10_000],
});

function time(name: string, n: number, perEvent: number, fn: (i: number) => void): void {
  for (let i = 0; i < Math.min(n, 50_000); i++) fn(i); // warm-up
  writer.flush();
  bytes = 0;
  batches = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    fn(i);
    // The broker writes a batch every traceFlushIntervalMs (200 ms): about every 2,000 sends at 10k msg/s.
    if (i % 2000 === 1999) writer.flush();
  }
  writer.flush();
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${name.padEnd(34)} ${ns.toFixed(0).padStart(5)} ns/event  ${(ns / perEvent).toFixed(0).padStart(5)} ns/message  ${(bytes / (n * perEvent)).toFixed(1).padStart(6)} trace B/message  ${batches} batches`);
}

const stored = (i: number): StoredEvent => ({
  protocol: 'remoting',
  producerGroup: `pg-${i % 4}`,
  topic: 'BenchTopic',
  storedTopic: 'BenchTopic',
  queueId: i % 8,
  queueOffset: i >> 3,
  msgNum: 1,
  commitLogOffset: i * 1200,
  msgId: '7F00000100002A9F0000000000001000',
  uniqKey: '7F000001A1B2C3D4E5F60000ABCDEF01',
  wroteBytes: 1200,
  client: `127.0.0.1:${40000 + (i % 4)}`,
});
const records = Array.from({ length: 32 }, (_, k) => {
  const b = Buffer.alloc(64);
  b.writeBigInt64BE(BigInt(k), 20);
  return b;
});
const pull = (i: number): DeliveredEvent => ({ kind: 'pull', protocol: 'remoting', group: 'cg', topic: 'BenchTopic', queueId: i % 8, count: 32, bytes: 32 * 1200, client: '127.0.0.1:50000', records });
const commit = (i: number): AckedEvent => ({ kind: 'offset', group: 'cg', topic: 'BenchTopic', queueId: i % 8, queueOffset: i });
const ack = (i: number): AckedEvent => ({ kind: 'ack', group: 'cg', topic: 'BenchTopic', queueId: i % 8, queueOffset: i });

console.log(`trace hook cost: ${events.toLocaleString('en-US')} events per case, node ${process.version}, ${new Date().toISOString()}`);
const s0 = stored(0);
time('stored (1 message)', events, 1, (i) => writer.onStored(i === 0 ? s0 : stored(i)));
time('delivered (pull of 32)', events / 10, 32, (i) => writer.onDelivered(pull(i)));
time('consumed (offset commit, moving)', events, 1, (i) => writer.onAcked(commit(i)));
time('consumed (pop ack)', events, 1, (i) => writer.onAcked(ack(i)));
