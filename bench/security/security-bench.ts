// Issue 15: what ACL and TLS cost a producer. Send throughput and latency (p50/p99) of 1 KiB
// messages from the TypeScript producer to `apogee standalone` (its own process) in three
// settings: plain, ACL on (every request signed and checked), TLS enforcing. Runs are interleaved
// (plain, acl, tls, plain, acl, tls, ...), each on a fresh broker, and medians are reported.
//
//   npm run bench:security -- [--rounds 3] [--messages 20000] [--window 64] [--seconds 60]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Producer } from '../../src/client/index.js';
import { createRequest, RemotingClient, RequestCode, ResponseCode, signRequest, type RemotingCommand } from '../../src/remoting/index.js';
import { makeTestCerts } from '../../test/security/tls-certs.js';
import { benchArgs } from '../helpers/args.js';
import { spawnBenchBroker, type BenchBroker } from '../helpers/spawn-broker.js';

type Mode = 'plain' | 'acl' | 'tls';
const MODES: Mode[] = ['plain', 'acl', 'tls'];
const ADMIN = { accessKey: 'benchAdmin01', secretKey: 'benchAdminSecret01' };
const APP = { accessKey: 'benchApp0001', secretKey: 'benchAppSecret01' };
const TOPIC = 'SecurityBench';

const args = benchArgs();
const rounds = args.num('rounds', 3);
const messages = args.num('messages', 20_000);
const window = args.num('window', 64);
const maxSeconds = args.num('seconds', 60);

type Broker = BenchBroker;

function startBroker(dir: string, extra: string[]): Promise<Broker> {
  return spawnBenchBroker(join(dir, 'data'), ['--host=127.0.0.1', ...extra]);
}

const signer = (who: { accessKey: string; secretKey: string }) => (cmd: RemotingCommand) =>
  signRequest(cmd.extFields, Buffer.isBuffer(cmd.body) ? cmd.body : undefined, who.accessKey, who.secretKey);

async function createTopic(b: Broker, mode: Mode, ca: Buffer): Promise<void> {
  const rc = new RemotingClient({ rpcHook: mode === 'acl' ? signer(ADMIN) : undefined, tls: mode === 'tls' ? (addr) => (addr === b.broker ? { ca } : false) : undefined });
  try {
    const r = await rc.invoke(b.broker, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: TOPIC, readQueueNums: 8, writeQueueNums: 8, perm: 6 }));
    if (r.code !== ResponseCode.SUCCESS) throw new Error(`create topic: ${r.code} ${r.remark ?? ''}`);
    const deadline = Date.now() + 10_000;
    while ((await rc.invoke(b.namesrv, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: TOPIC }))).code !== ResponseCode.SUCCESS) {
      if (Date.now() > deadline) throw new Error('no route for the bench topic');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await rc.close();
  }
}

interface RunResult {
  mode: Mode;
  msgsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  sent: number;
}

async function run(mode: Mode, certs: ReturnType<typeof makeTestCerts>): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'apogee-secbench-'));
  const extra: string[] = [];
  if (mode === 'acl') {
    writeFileSync(
      join(dir, 'plain_acl.yml'),
      `accounts:\n  - accessKey: ${ADMIN.accessKey}\n    secretKey: ${ADMIN.secretKey}\n    admin: true\n  - accessKey: ${APP.accessKey}\n    secretKey: ${APP.secretKey}\n    defaultTopicPerm: DENY\n    defaultGroupPerm: SUB\n    topicPerms:\n      - ${TOPIC}=PUB\n`,
    );
    extra.push('--aclEnable=true', `--aclConfigFile=${join(dir, 'plain_acl.yml')}`);
  }
  if (mode === 'tls') extra.push('--tlsServerMode=enforcing', `--tlsServerCertPath=${certs.serverCert}`, `--tlsServerKeyPath=${certs.serverKey}`);
  const b = await startBroker(dir, extra);
  const ca = readFileSync(certs.ca);
  try {
    await createTopic(b, mode, ca);
    const p = new Producer({
      namesrvAddr: b.namesrv,
      producerGroup: 'pg-secbench',
      rpcHook: mode === 'acl' ? signer(APP) : undefined,
      tls: mode === 'tls' ? { ca } : undefined,
    });
    await p.start();
    try {
      const body = Buffer.alloc(1024, 0x61);
      // Warm-up: routes, connections, JIT.
      for (let i = 0; i < 500; i++) await p.send({ topic: TOPIC, body });
      const lat: number[] = [];
      let next = 0;
      const deadline = Date.now() + maxSeconds * 1000;
      const t0 = process.hrtime.bigint();
      const worker = async (): Promise<void> => {
        while (next < messages && Date.now() < deadline) {
          next++;
          const s = process.hrtime.bigint();
          await p.send({ topic: TOPIC, body });
          lat.push(Number(process.hrtime.bigint() - s) / 1e6);
        }
      };
      await Promise.all(Array.from({ length: window }, worker));
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      lat.sort((x, y) => x - y);
      const q = (f: number): number => lat[Math.min(lat.length - 1, Math.floor(f * lat.length))];
      return { mode, msgsPerSec: lat.length / secs, p50Ms: q(0.5), p99Ms: q(0.99), sent: lat.length };
    } finally {
      await p.shutdown();
    }
  } finally {
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const certs = makeTestCerts();
  const results: RunResult[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      for (const mode of MODES) {
        const res = await run(mode, certs);
        results.push(res);
        console.log(`round ${r + 1} ${mode.padEnd(5)} ${res.msgsPerSec.toFixed(0).padStart(7)} msg/s  p50 ${res.p50Ms.toFixed(2)} ms  p99 ${res.p99Ms.toFixed(2)} ms  (${res.sent} sent)`);
      }
    }
  } finally {
    certs.remove();
  }
  const base = median(results.filter((x) => x.mode === 'plain').map((x) => x.msgsPerSec));
  console.log(`\n| setting | send msg/s (median of ${rounds}) | vs plain | p50 ms | p99 ms |`);
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const mode of MODES) {
    const of = results.filter((x) => x.mode === mode);
    const tput = median(of.map((x) => x.msgsPerSec));
    console.log(`| ${mode} | ${tput.toFixed(0)} | ${((tput / base) * 100).toFixed(0)} % | ${median(of.map((x) => x.p50Ms)).toFixed(2)} | ${median(of.map((x) => x.p99Ms)).toFixed(2)} |`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
