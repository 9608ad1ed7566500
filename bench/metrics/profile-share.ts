// What share of a broker's busy time went to metrics, from a `node --cpu-prof` profile (what
// `metrics-bench.ts --cpu-prof DIR` writes): time inside frames of the metrics code, the remoting and
// gRPC hook frameworks and prom-client, counted once per sample (a sample whose stack holds several
// such frames counts once, for the frame nearest the leaf: metrics code called from a hook framework
// counts as metrics). The broker-side trace (issue 13) listens on the same service-layer hooks; its
// time is shown apart and not counted as metrics, and so is serving GET /metrics (per scrape, not
// per message). Samples that are loading modules (startup) are
// left out of both sides, so that a short run is not diluted by its start.
//   node --import tsx bench/metrics/profile-share.ts FILE.cpuprofile [...]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const PARTS: [string, RegExp][] = [
  ['metrics counters and views', /observability\/metrics\//],
  ['remoting RequestHooks', /remoting\/request-hooks\./],
  ['gRPC GrpcHooks', /proxy\/grpc-hooks\./],
  ['service-layer BrokerHooks.emit', /broker\/service\/broker-hooks\./],
  ['prom-client', /node_modules\/prom-client\//],
];
const TRACE = /observability\/trace\/|broker\/trace\//;
/** Serving GET /metrics: paid per scrape (metrics-bench scrapes once per run), not per message. */
const SCRAPE = /console\/http-server\.|prom-client\/lib\/registry\.js/;
const LOADING = /internal\/modules\/|node:internal\/bootstrap|\/tsx\//;

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: profile-share.ts FILE.cpuprofile [...]');
  process.exit(2);
}
for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let busy = 0;
  let loading = 0;
  const parts = new Map<string, number>();
  let any = 0;
  let trace = 0;
  let scrape = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const leaf = byId.get(p.samples[i])!;
    const dt = p.timeDeltas[i] ?? 0;
    if (leaf.callFrame.functionName === '(idle)') continue;
    const urls: string[] = [];
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) urls.push(byId.get(id)!.callFrame.url);
    if (urls.some((u) => LOADING.test(u))) {
      loading += dt;
      continue;
    }
    busy += dt;
    if (urls.some((u) => SCRAPE.test(u))) {
      scrape += dt;
      continue;
    }
    // The matching frame nearest the leaf owns the sample.
    let owner: string | undefined;
    for (const u of urls) {
      if (TRACE.test(u)) {
        owner = 'trace';
        break;
      }
      owner = PARTS.find(([, re]) => re.test(u))?.[0];
      if (owner !== undefined) break;
    }
    if (owner === 'trace') trace += dt;
    else if (owner !== undefined) {
      parts.set(owner, (parts.get(owner) ?? 0) + dt);
      any += dt;
    }
  }
  const pct = (us: number): string => `${((us / busy) * 100).toFixed(2)} %`;
  console.log(`${basename(file)}: busy ${(busy / 1e6).toFixed(2)} s (module loading left out: ${(loading / 1e6).toFixed(2)} s); metrics and hooks ${pct(any)}; not counted: serving /metrics ${pct(scrape)}, broker-side trace ${pct(trace)}`);
  for (const [name, us] of [...parts].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(us).padStart(8)}  ${name}`);
}
