// gRPC server capacity with the protocol's own batching: many messages per SendMessage and many
// entries per AckMessage, over plain @grpc/grpc-js with the v2 schema (no 5.x client library, whose
// one-call-per-message design is what grpc-bench.ts measures). The broker runs as its own process.
// Run: node --import tsx bench/grpc/grpc-batch-bench.ts [--seconds 8] [--batch 32] [--calls 32] [--window 1048576] [--serial-acks]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { LatencyHistogram } from '../../src/cli/bench/index.js';
import { loadMessagingService, receiveMessageResponseType } from '../../src/proxy/proto.js';
import { createRequest, RemotingClient, RequestCode } from '../../src/remoting/index.js';
import { startCpuMeter } from '../helpers/cpu-meter.js';
import { spawnBenchBroker } from '../helpers/spawn-broker.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SECONDS = opt('seconds', 8);
const BATCH = opt('batch', 32);
const CALLS = opt('calls', 32);
// The client's HTTP/2 receive window; 1 MiB is grpc-java's default (the Java 5.x client), grpc-js's is 64 KiB.
const WINDOW = opt('window', 1 << 20);
// --serial-acks: wait for each batch's ack before the next receive (the first version of this bench).
const SERIAL_ACKS = args.includes('--serial-acks');
// Fixed-rate phase: one message per SendMessage at --rate msg/s for --rate-seconds.
const RATE = opt('rate', 5000);
const RATE_SECONDS = opt('rate-seconds', 5);
const TOPIC = 'GrpcBatchTopic';
const GROUP = 'GrpcBatchGroup';
const body = Buffer.alloc(1024, 7);
const OK = 20000;

type Unary = (req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: any) => void) => void;
type Streaming = (req: unknown, md: grpc.Metadata) => grpc.ClientReadableStream<any>;


function client(address: string): { unary: (m: string, req: unknown) => Promise<any>; stream: (m: string, req: unknown) => Promise<any[]>; close(): void } {
  // Received messages are decoded by protobufjs into its message objects (every field, nothing
  // skipped) rather than through proto-loader's extra conversion to plain objects, so that less of
  // the load process's CPU goes into the client side of the measurement.
  const service = loadMessagingService();
  const receiveType = receiveMessageResponseType();
  const Ctor = grpc.makeGenericClientConstructor(
    { ...service, ReceiveMessage: { ...service.ReceiveMessage, responseDeserialize: (b: Buffer) => receiveType.decode(b) } },
    'MessagingService',
  );
  const c = new Ctor(address, grpc.credentials.createInsecure(), { 'grpc-node.flow_control_window': WINDOW }) as unknown as grpc.Client & Record<string, Unary & Streaming>;
  const md = new grpc.Metadata();
  md.set('x-mq-client-id', `batch-bench-${process.pid}`);
  md.set('x-mq-protocol', 'v2');
  return {
    unary: (m, req) => new Promise((resolve, reject) => (c[m] as Unary).call(c, req, md, (err, res) => (err ? reject(err) : resolve(res)))),
    stream: (m, req) =>
      new Promise((resolve, reject) => {
        const frames: any[] = [];
        const s = (c[m] as Streaming).call(c, req, md);
        s.on('data', (f) => frames.push(f));
        s.on('error', reject);
        s.on('end', () => resolve(frames));
      }),
    close: () => c.close(),
  };
}

function messages(n: number): unknown[] {
  const now = Date.now();
  return Array.from({ length: n }, () => ({
    topic: { name: TOPIC },
    body,
    systemProperties: {
      messageId: '01' + randomBytes(16).toString('hex').toUpperCase(),
      tag: 'bench',
      messageType: 1,
      bodyEncoding: 1,
      bornTimestamp: { seconds: Math.floor(now / 1000), nanos: 0 },
      bornHost: 'bench',
    },
  }));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'apogee-grpc-batch-'));
  const b = await spawnBenchBroker(dir);
  const c = client(b.grpc);
  try {
    const rc = new RemotingClient();
    const created = await rc.invoke(b.broker, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: TOPIC, readQueueNums: 8, writeQueueNums: 8, perm: 6 }));
    if (created.code !== 0) throw new Error(`create topic failed: ${created.remark}`);
    await rc.close();

    // Send: CALLS SendMessage calls in flight, BATCH messages each.
    let sent = 0;
    const sendCpu = startCpuMeter(b.child.pid);
    const t0 = performance.now();
    const until = t0 + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CALLS }, async () => {
        while (performance.now() < until) {
          const r = await c.unary('SendMessage', { messages: messages(BATCH) });
          if (r.status?.code !== OK) throw new Error(`send failed: ${r.status?.code} ${r.status?.message}`);
          sent += r.entries.length;
        }
      }),
    );
    const sendMs = performance.now() - t0;
    const sendCpuReport = sendCpu.report();

    // Send latency at a fixed rate, one message per call: a 1 ms tick releases the sends that are
    // due, and each latency is counted from the moment its send was due (no coordinated omission).
    const hist = new LatencyHistogram();
    let rateFailed = 0;
    const rateCpu = startCpuMeter(b.child.pid);
    const pending: Promise<void>[] = [];
    const total = RATE * RATE_SECONDS;
    const t2 = performance.now();
    for (let issued = 0; issued < total; ) {
      const due = Math.min(total, Math.floor(((performance.now() - t2) * RATE) / 1000) + 1);
      for (; issued < due; issued++) {
        const dueAt = t2 + (issued * 1000) / RATE;
        pending.push(
          c.unary('SendMessage', { messages: messages(1) }).then(
            (r) => {
              if (r.status?.code !== OK) rateFailed++;
              else {
                hist.record(performance.now() - dueAt);
                sent++;
              }
            },
            () => void rateFailed++,
          ),
        );
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(pending);
    const rateMs = performance.now() - t2;
    const rateCpuReport = rateCpu.report();

    // Receive + ack: CALLS receivers, each ReceiveMessage takes BATCH and one AckMessage acks them
    // all. As real consumers do, a receiver asks for its next batch while the previous batch's ack
    // is on its way (at most one ack in flight per receiver); a message counts once acked.
    let received = 0;
    let got = 0;
    const recvCpu = startCpuMeter(b.child.pid);
    const perSecond: number[] = [];
    let lastGot = 0;
    const ticker = setInterval(() => {
      perSecond.push(got - lastGot);
      lastGot = got;
    }, 1000);
    const t1 = performance.now();
    const until2 = t1 + Math.max(SECONDS * 3, 30) * 1000;
    await Promise.all(
      Array.from({ length: CALLS }, async () => {
        let ackInFlight: Promise<void> = Promise.resolve();
        while (received < sent && performance.now() < until2) {
          const frames = await c.stream('ReceiveMessage', {
            group: { name: GROUP },
            messageQueue: { topic: { name: TOPIC }, id: 0 },
            filterExpression: { type: 1, expression: '*' },
            batchSize: BATCH,
            invisibleDuration: { seconds: 60 },
            longPollingTimeout: { seconds: 1 },
          });
          const msgs = frames.filter((f) => f.message).map((f) => f.message);
          if (msgs.length === 0) continue;
          received += msgs.length;
          await ackInFlight;
          ackInFlight = c
            .unary('AckMessage', {
              group: { name: GROUP },
              topic: { name: TOPIC },
              entries: msgs.map((m: any) => ({ messageId: m.systemProperties.messageId, receiptHandle: m.systemProperties.receiptHandle })),
            })
            .then((r) => {
              if (r.status?.code !== OK) throw new Error(`ack failed: ${r.status?.code} ${r.status?.message}`);
              got += msgs.length;
            });
          if (SERIAL_ACKS) await ackInFlight;
        }
        await ackInFlight;
      }),
    );
    const recvMs = performance.now() - t1;
    clearInterval(ticker);
    const recvCpuReport = recvCpu.report();
    console.log(`machine: ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
    console.log(`send, ${CALLS} calls in flight x ${BATCH} messages per SendMessage: ${Math.round((sent / sendMs) * 1000)} msg/s (${sent} in ${Math.round(sendMs)} ms; ${sendCpuReport})`);
    console.log(
      `send at ${RATE} msg/s, one message per SendMessage: ${hist.count} ok, ${rateFailed} failed in ${Math.round(rateMs)} ms; ` +
        `p50 ${hist.percentileMs(0.5).toFixed(2)} ms, p99 ${hist.percentileMs(0.99).toFixed(2)} ms, p999 ${hist.percentileMs(0.999).toFixed(2)} ms, max ${hist.maxMs().toFixed(2)} ms (${rateCpuReport})`,
    );
    console.log(`receive + ack, ${CALLS} receivers x batch ${BATCH}, one AckMessage per batch (${SERIAL_ACKS ? 'serial acks' : 'ack overlapping the next receive'}, client window ${WINDOW} B): ${Math.round((got / recvMs) * 1000)} msg/s (${got} of ${sent} in ${Math.round(recvMs)} ms; ${recvCpuReport})`);
    console.log(`receive + ack per whole second: ${perSecond.map((n) => `${(n / 1000).toFixed(1)}k`).join(' ')}`);
  } finally {
    c.close();
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
