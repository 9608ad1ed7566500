// What counting costs per message, apart from the broker: the `stored` listener (with the event object
// the send service builds for it), the `delivered` listener for a pull, and the remoting response
// hook through RequestHooks (before + after, as the server runs them), each against an empty loop;
// and RequestHooks alone with a no-op hook taking elapsedNs (`after`) or elapsedMs (`afterMs`).
// Usage: node --import tsx bench/metrics/hook-cost.ts [--iterations 2000000] [--rounds 5]
import { Registry } from 'prom-client';
import type { DeliveredEvent, StoredEvent } from '../../src/observability/broker-events.js';
import { BrokerMetrics, type BrokerMetricsView } from '../../src/observability/metrics/index.js';
import { silentLogger } from '../../src/common/logger.js';
import { createRequest, createResponse, RequestCode, RequestHooks, ResponseCode, type RemotingChannel } from '../../src/remoting/index.js';
import { benchArgs } from '../helpers/args.js';

const args = benchArgs();
const N = args.num('iterations', 2_000_000);
const ROUNDS = args.num('rounds', 5);

const view: BrokerMetricsView = {
  identity: () => ({ cluster: 'C', brokerName: 'b', brokerAddr: '127.0.0.1:10911', bootTimestamp: 0, permission: 6 }),
  topicOffsets: () => [],
  topicCount: () => 0,
  groupCount: () => 0,
  topicMessageType: () => 'normal',
  consumerProgress: () => Promise.resolve([]),
  producerConnections: () => [],
  consumerConnections: () => [],
  store: () => Promise.reject(new Error('not in this bench')),
  timer: () => undefined,
  delayLevels: () => [],
  halfMessages: () => Promise.resolve({ count: 0, oldestMs: 0 }),
};

const metrics = new BrokerMetrics({ registry: new Registry(), view });
const TOPICS = ['BenchTopic', 'Orders', 'Payments', 'Audit'];
const record = Buffer.alloc(200);

/** Best of ROUNDS, in ns per iteration. */
function measure(name: string, body: (i: number) => void): number {
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) body(i);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / N);
  }
  console.log(`${name.padEnd(52)} ${best.toFixed(1).padStart(7)} ns/op`);
  return best;
}

let sink = 0;
const empty = measure('empty loop', (i) => {
  sink += i & 1;
});
const stored = measure('stored event built + metrics listener', (i) => {
  const e: StoredEvent = {
    protocol: 'remoting',
    producerGroup: 'pg',
    topic: TOPICS[i & 3],
    storedTopic: TOPICS[i & 3],
    queueId: i & 7,
    queueOffset: i,
    msgNum: 1,
    commitLogOffset: i * 1200,
    msgId: 'msg',
    uniqKey: 'uniq',
    wroteBytes: 1200,
    client: '127.0.0.1:5000',
  };
  metrics.onStored(e);
});
const records = [record];
const delivered = measure('delivered event (pull of 32) + metrics listener', (i) => {
  const e: DeliveredEvent = { kind: 'pull', protocol: 'remoting', group: 'g', topic: TOPICS[i & 3], queueId: i & 7, count: 32, bytes: 32 * 1200, client: 'c', records };
  metrics.onDelivered(e);
});

const req = createRequest(RequestCode.SEND_MESSAGE_V2, { a: '1' });
const resp = createResponse(ResponseCode.SUCCESS);
const channel = { remoteAddress: '127.0.0.1:5000' } as unknown as RemotingChannel;
const noop = new RequestHooks(silentLogger);
noop.add({ after: () => undefined });
const framework = measure('remoting request, a no-op hook (RequestHooks alone)', () => {
  noop.before(req, channel);
  noop.after(req, resp);
});
const noopMs = new RequestHooks(silentLogger);
noopMs.add({ afterMs: () => undefined });
const frameworkMs = measure('remoting request, a no-op afterMs hook', () => {
  noopMs.before(req, channel);
  noopMs.after(req, resp);
});
const hooks = new RequestHooks(silentLogger);
hooks.add(metrics.rpc.remotingHook());
const rpc = measure('remoting request through RequestHooks (before + after)', () => {
  hooks.before(req, channel);
  hooks.after(req, resp);
});

console.log(
  `per send with metrics on: about ${(stored + rpc - 2 * empty).toFixed(0)} ns (stored listener + response hook), ` +
    `of which ${(frameworkMs - empty).toFixed(0)} ns is RequestHooks itself (${(framework - empty).toFixed(0)} ns for a hook taking elapsedNs); ` +
    `per pull of 32: ${(delivered + rpc - 2 * empty).toFixed(0)} ns`,
);
if (sink < 0) console.log(sink);
