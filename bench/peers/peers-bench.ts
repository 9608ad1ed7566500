// Side-by-side benchmark (issue 17): Apogee and its peers (Redis Streams, RabbitMQ quorum queues,
// NATS JetStream), each started on loopback over a temp dir and driven through its users' Node
// client with the same workloads:
//   produce  N messages of --size bytes with --window sends in flight; msg/s and server CPU per message
//   consume  the backlog just produced, from a new consumer; msg/s
//   e2e      a consumer reading while a producer sends at --rate msg/s for --seconds; latency from
//            send to delivery (p50, p99, max) and the send rate achieved
// The servers come from Debian's packages (bench/peers/install.sh). Writes results.md, results.json
// and chart.svg into --out (default bench/peers/results).
//   node --import tsx bench/peers/peers-bench.ts [--systems apogee-async,apogee-sync,apogee-grpc,redis,rabbitmq,nats]
//     [--count 200000] [--size 1024] [--window 256] [--rate 20000] [--seconds 10] [--out DIR]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PEERS, type Peer } from './peers.js';

function opt(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
const systems = opt('systems', 'apogee-async,apogee-sync,apogee-grpc,redis,rabbitmq,nats').split(',');
const count = Number(opt('count', '200000'));
const size = Number(opt('size', '1024'));
const window = Number(opt('window', '256'));
const rate = Number(opt('rate', '20000'));
const seconds = Number(opt('seconds', '10'));
const outDir = opt('out', join('bench', 'peers', 'results'));
for (const s of systems) if (!PEERS[s]) throw new Error(`unknown system ${s}; known: ${Object.keys(PEERS).join(', ')}`);
if (!(count > 0 && count <= 5_000_000 && window >= 1 && rate > 0 && seconds > 0 && seconds <= 600)) throw new Error('bad --count/--window/--rate/--seconds');

/** CPU ms of pid and every process below it (a server may be a script that started its VM). */
function treeCpuMs(root: number): number {
  const kids = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(name);
      const ppid = Number(f[1]);
      cpu.set(pid, ((Number(f[11]) + Number(f[12])) * 1000) / 100);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid)!.push(pid);
    } catch {
      // The process ended while we read.
    }
  }
  let sum = 0;
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    sum += cpu.get(p) ?? 0;
    stack.push(...(kids.get(p) ?? []));
  }
  return sum;
}

const clientCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const pct = (sorted: number[], p: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

function waitFor(what: string, ms: number, done: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const t = setInterval(() => {
      if (done()) {
        clearInterval(t);
        resolve();
      } else if (Date.now() > deadline) {
        clearInterval(t);
        reject(new Error(`${what} not done within ${ms} ms`));
      }
    }, 20);
  });
}

interface Result {
  system: string;
  client: string;
  durability: string;
  produce: number;
  consume: number;
  e2eP50: number;
  e2eP99: number;
  e2eMax: number;
  e2eRate: number;
  serverUsPerMsg: number;
  clientUsPerMsg: number;
  error?: string;
}

async function measure(key: string): Promise<Result> {
  const peer: Peer = PEERS[key]();
  const r: Result = { system: peer.name, client: peer.client, durability: peer.durability, produce: NaN, consume: NaN, e2eP50: NaN, e2eP99: NaN, e2eMax: NaN, e2eRate: NaN, serverUsPerMsg: NaN, clientUsPerMsg: NaN };
  const dir = mkdtempSync(join(tmpdir(), `peers-${key}-`));
  const server = await peer.start(dir);
  try {
    const body = Buffer.alloc(size, 0x61);
    // Warm-up: connections, routes, JIT, first files.
    const warm = await peer.producer('peers_warm');
    for (let i = 0; i < 2000; i += 100) await Promise.all(Array.from({ length: 100 }, () => warm.send(body)));
    await warm.close();

    // produce
    const p = await peer.producer('peers_backlog');
    let sent = 0;
    const s0 = treeCpuMs(server.pid);
    const c0 = clientCpuMs();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: window }, async () => {
        while (sent < count) {
          sent++;
          await p.send(body);
        }
      }),
    );
    const produceMs = performance.now() - t0;
    r.produce = (count * 1000) / produceMs;
    r.serverUsPerMsg = ((treeCpuMs(server.pid) - s0) * 1000) / count;
    r.clientUsPerMsg = ((clientCpuMs() - c0) * 1000) / count;
    await p.close();
    console.log(`  ${key}: produce ${Math.round(r.produce)} msg/s, server ${r.serverUsPerMsg.toFixed(1)} µs/msg, client ${r.clientUsPerMsg.toFixed(1)} µs/msg`);

    // consume the backlog
    let got = 0;
    const t1 = performance.now();
    const c = await peer.consumer('peers_backlog', () => void got++);
    await waitFor('consuming the backlog', 120_000, () => got >= count).catch((err: Error) => console.log(`  ${key}: ${err.message} (${got} of ${count})`));
    r.consume = (got * 1000) / (performance.now() - t1);
    await c.close();
    console.log(`  ${key}: consume ${Math.round(r.consume)} msg/s`);

    // end to end at a fixed rate
    const lat: number[] = [];
    const ec = await peer.consumer('peers_e2e', (b) => {
      if (b.length >= 8) lat.push(performance.now() - b.readDoubleLE(0));
    });
    const ep = await peer.producer('peers_e2e');
    let esent = 0;
    let inflight = 0;
    const start = performance.now();
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const now = performance.now();
        if (now - start >= seconds * 1000) {
          clearInterval(tick);
          resolve();
          return;
        }
        const due = Math.floor(((now - start) * rate) / 1000);
        while (esent < due && inflight < window) {
          const b = Buffer.alloc(size, 0x62);
          b.writeDoubleLE(performance.now(), 0);
          esent++;
          inflight++;
          ep.send(b).then(
            () => void inflight--,
            () => void inflight--,
          );
        }
      }, 1);
    });
    r.e2eRate = (esent * 1000) / (performance.now() - start);
    await waitFor('end-to-end delivery', 30_000, () => lat.length >= esent).catch((err: Error) => console.log(`  ${key}: ${err.message} (${lat.length} of ${esent})`));
    await ep.close();
    await ec.close();
    lat.sort((a, b) => a - b);
    [r.e2eP50, r.e2eP99, r.e2eMax] = [pct(lat, 50), pct(lat, 99), lat[lat.length - 1] ?? NaN];
    console.log(`  ${key}: e2e at ${Math.round(r.e2eRate)} msg/s: p50 ${r.e2eP50.toFixed(1)} ms, p99 ${r.e2eP99.toFixed(1)} ms, max ${r.e2eMax.toFixed(1)} ms`);
  } catch (err) {
    r.error = (err as Error).message;
    console.log(`  ${key}: failed: ${r.error}`);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return r;
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–';
}

function markdown(results: Result[], header: string): string {
  const rows = results.map(
    (r) =>
      `| ${r.system} (${r.client}) | ${fmt(r.produce)} | ${fmt(r.consume)} | ${fmt(r.e2eP50, 1)} / ${fmt(r.e2eP99, 1)} ms${r.e2eRate < rate * 0.95 ? ` (rate not held: ${fmt(r.e2eRate)}/s)` : ''} | ${fmt(r.serverUsPerMsg, 1)} µs | ${fmt(r.clientUsPerMsg, 1)} µs | ${r.durability}${r.error ? ` — failed: ${r.error}` : ''} |`,
  );
  return [
    header,
    '',
    `| system (client) | produce msg/s | consume msg/s | e2e at ${fmt(rate)} msg/s, p50 / p99 | server CPU per produced message | client CPU per produced message | durability |`,
    '| --- | --: | --: | --: | --: | --: | --- |',
    ...rows,
    '',
  ].join('\n');
}

/** Grouped horizontal bars of produce and consume msg/s, as a self-contained SVG. */
function chart(results: Result[]): string {
  const max = Math.max(1, ...results.flatMap((r) => [r.produce, r.consume].filter(Number.isFinite)));
  const rowH = 46;
  const left = 300;
  const width = 900;
  const barW = (v: number) => (Number.isFinite(v) ? Math.max(1, ((width - left - 90) * v) / max) : 0);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const rows = results.map((r, i) => {
    const y = 40 + i * rowH;
    return [
      `<text x="${left - 8}" y="${y + 18}" text-anchor="end" font-size="12">${esc(r.system)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${barW(r.produce)}" height="16" fill="#3b6fd8"/>`,
      `<text x="${left + barW(r.produce) + 4}" y="${y + 17}" font-size="11">${fmt(r.produce)}</text>`,
      `<rect x="${left}" y="${y + 22}" width="${barW(r.consume)}" height="16" fill="#2aa876"/>`,
      `<text x="${left + barW(r.consume) + 4}" y="${y + 35}" font-size="11">${fmt(r.consume)}</text>`,
    ].join('');
  });
  const h = 60 + results.length * rowH;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" font-family="sans-serif">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<text x="10" y="20" font-size="14" font-weight="bold">msg/s, ${size}-byte messages, window ${window} (blue: produce, green: consume a backlog)</text>` +
    rows.join('') +
    `</svg>\n`
  );
}

const results: Result[] = [];
console.log(`peers bench: ${systems.join(', ')}; ${count} × ${size} B, window ${window}, e2e ${rate}/s for ${seconds} s; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const s of systems) {
  console.log(`${s}:`);
  results.push(await measure(s));
}
const header = `Measured ${new Date().toISOString().slice(0, 10)} on ${readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU'} (${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? '?'} vCPU), Node ${process.version}; servers and this load process share the machine; one run each; load average at the end ${loadavg()[0].toFixed(2)}.`;
mkdirSync(outDir, { recursive: true });
const md = markdown(results, header);
writeFileSync(join(outDir, 'results.md'), md);
writeFileSync(join(outDir, 'results.json'), `${JSON.stringify({ count, size, window, rate, seconds, results }, null, 2)}\n`);
writeFileSync(join(outDir, 'chart.svg'), chart(results));
console.log(`\n${md}`);
process.exit(0);
