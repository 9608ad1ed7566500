// Self time by function from a node --cpu-prof profile (what `ha-bench.ts --cpu-prof DIR` writes),
// as a share of the process's busy time (idle excluded), and by source file.
//   node --import tsx bench/ha/profile-top.ts FILE.cpuprofile [top=25]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-top.ts FILE.cpuprofile [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const selfUs = new Map<string, number>();
const fileUs = new Map<string, number>();
let busy = 0;
let idle = 0;
for (let i = 0; i < p.samples.length; i++) {
  const n = byId.get(p.samples[i])!;
  const dt = p.timeDeltas[i] ?? 0;
  const name = n.callFrame.functionName || '(anonymous)';
  if (name === '(idle)') {
    idle += dt;
    continue;
  }
  busy += dt;
  const src = n.callFrame.url ? basename(n.callFrame.url) : '';
  const key = src ? `${name} ${src}:${n.callFrame.lineNumber + 1}` : name;
  selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
  const f = src || name;
  fileUs.set(f, (fileUs.get(f) ?? 0) + dt);
}
const pct = (us: number): string => `${((us / busy) * 100).toFixed(1)} %`;
console.log(`${basename(file)}: busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s`);
console.log('self time by function:');
for (const [k, us] of [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us).padStart(7)}  ${k}`);
console.log('self time by file:');
for (const [k, us] of [...fileUs].sort((a, b) => b[1] - a[1]).slice(0, Math.min(top, 15))) console.log(`  ${pct(us).padStart(7)}  ${k}`);
