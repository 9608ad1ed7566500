// Reading the Prometheus text format back in tests: a parser of sample lines (labels with their
// escapes) and lookups by name and labels.
import assert from 'node:assert/strict';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses `name{l="v",...} value` lines; comments and blank lines are skipped, anything else throws. */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    out.push({ name: m[1], labels: m[2] ? parseLabels(m[2].slice(1, -1)) : {}, value: parseValue(m[3]) });
  }
  return out;
}

function parseValue(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  const v = Number(s);
  assert.ok(!Number.isNaN(v) || s === 'NaN', `not a sample value: ${s}`);
  return v;
}

function parseLabels(s: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    const name = s.slice(i, eq);
    assert.match(name, /^[a-zA-Z_][a-zA-Z0-9_]*$/, `label name in ${s}`);
    assert.equal(s[eq + 1], '"', `quoted label value in ${s}`);
    let j = eq + 2;
    let value = '';
    while (s[j] !== '"') {
      assert.ok(j < s.length, `unterminated label value in ${s}`);
      if (s[j] === '\\') {
        const c = s[j + 1];
        value += c === 'n' ? '\n' : c;
        j += 2;
      } else value += s[j++];
    }
    labels[name] = value;
    i = j + 1;
    if (s[i] === ',') i++;
  }
  return labels;
}

/** Samples of a name whose labels include every given one. */
export function find(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The sum over the matching samples (0 when none match). */
export function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return find(samples, name, labels).reduce((n, s) => n + s.value, 0);
}

/** The one sample matching; fails naming what was there instead. */
export function one(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): Sample {
  const f = find(samples, name, labels);
  assert.equal(f.length, 1, `one ${name}${JSON.stringify(labels)}; found ${JSON.stringify(find(samples, name))}`);
  return f[0];
}

export async function scrape(httpAddr: string): Promise<Sample[]> {
  const r = await fetch(`http://${httpAddr}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseMetrics(await r.text());
}
