// gRPC server capacity with the protocol's own batching: many messages per SendMessage and many
// entries per AckMessage, over plain @grpc/grpc-js with the v2 schema (no 5.x client library, whose
// one-call-per-message design is what grpc-bench.ts measures). The broker runs as its own process.
// Run: node --import tsx bench/grpc/grpc-batch-bench.ts [--seconds 8] [--batch 32] [--calls 32] [--window 1048576] [--serial-acks]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequest, RemotingClient, RequestCode } from '../../src/remoting/index.js';
import { startCpuMeter } from '../helpers/cpu-meter.js';
import { latencyLine, runAtFixedRate } from '../helpers/fixed-rate.js';
import { benchMessages, grpcLoadClient } from '../helpers/grpc-load-client.js';
import { spawnBenchBroker } from '../helpers/spawn-broker.js';
import { benchArgs } from '../helpers/args.js';

const args = benchArgs();
const opt = args.num;
const SECONDS = opt('seconds', 8);
const BATCH = opt('batch', 32);
const CALLS = opt('calls', 32);
// The client's HTTP/2 receive window; 1 MiB is grpc-java's default (the Java 5.x client), grpc-js's is 64 KiB.
const WINDOW = opt('window', 1 << 20);
// --serial-acks: wait for each batch's ack before the next receive (the first version of this bench).
const SERIAL_ACKS = args.flag('serial-acks');
// Fixed-rate phase: one message per SendMessage at --rate msg/s for --rate-seconds.
const RATE = opt('rate', 5000);
const RATE_SECONDS = opt('rate-seconds', 5);
const TOPIC = 'GrpcBatchTopic';
const GROUP = 'GrpcBatchGroup';
const body = Buffer.alloc(1024, 7);
const OK = 20000;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'apogee-grpc-batch-'));
  const b = await spawnBenchBroker(dir);
  const c = grpcLoadClient(b.grpc, WINDOW);
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
          const r = await c.unary('SendMessage', { messages: benchMessages(TOPIC, BATCH, body) });
          if (r.status?.code !== OK) throw new Error(`send failed: ${r.status?.code} ${r.status?.message}`);
          sent += r.entries.length;
        }
      }),
    );
    const sendMs = performance.now() - t0;
    const sendCpuReport = sendCpu.report();

    // Send latency at a fixed rate, one message per call.
    const rateCpu = startCpuMeter(b.child.pid);
    const rated = await runAtFixedRate(RATE, RATE_SECONDS, async () => {
      const r = await c.unary('SendMessage', { messages: benchMessages(TOPIC, 1, body) });
      if (r.status?.code !== OK) return false;
      sent++;
      return true;
    });
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
    console.log(`send at ${RATE} msg/s, one message per SendMessage: ${latencyLine(rated)} (${rateCpuReport})`);
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
