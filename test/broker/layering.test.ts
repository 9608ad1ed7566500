// Issue 11: src/broker has no import cycle (type imports included), only the role wiring sees the
// controller, and one dispatch table lists every request code the broker answers.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRequest, RemotingClient, ResponseCode } from '../../src/remoting/index.js';
import { startStandalone } from '../helpers/standalone.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BROKER = join(ROOT, 'src', 'broker');
const IMPORT_RE = /^\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]/gm;

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Relative imports (value and type) of each file inside src/broker, resolved to files. */
function brokerGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles(BROKER)) {
    const deps: string[] = [];
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT_RE)) {
      const target = resolve(dirname(file), m[1].replace(/\.js$/, '.ts'));
      if (target.startsWith(BROKER)) deps.push(target);
    }
    graph.set(file, deps);
  }
  return graph;
}

/** Strongly connected components of more than one file (Tarjan), or a file importing itself. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(relative(ROOT, w));
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

void test('broker layering - issue 11: no import cycle inside src/broker, type imports included', () => {
  const graph = brokerGraph();
  assert.ok(graph.size > 40, 'the broker sources were read');
  assert.deepEqual(cycles(graph), []);
});

void test('broker layering - the cycle finder sees a cycle when there is one', () => {
  const g = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['a']],
  ]);
  assert.equal(cycles(g).length, 1);
  assert.equal(cycles(g)[0].length, 3);
});

void test('broker layering - only the role wiring imports the controller', () => {
  const importers = [...brokerGraph()].filter(([, deps]) => deps.some((d) => d.endsWith('broker-controller.ts'))).map(([f]) => relative(BROKER, f));
  assert.deepEqual(importers, ['index.ts']);
});

void test('broker layering - issue 11: one dispatch table lists every request code, each answered by its processor', async () => {
  await using s = await startStandalone();
  const table = s.controller.dispatchTable;
  const codes = table.map(([code]) => code);
  assert.equal(new Set(codes).size, codes.length, 'no code twice');
  assert.equal(codes.length, 49);
  const rc = new RemotingClient();
  try {
    for (const code of codes) {
      // Most requests lack their header here: any answer but "not supported" shows a handler ran.
      const resp = await rc.invoke(s.brokerAddr, createRequest(code, {}), 5000);
      assert.notEqual(resp.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, `code ${code}`);
    }
    const unknown = await rc.invoke(s.brokerAddr, createRequest(9999, {}), 5000);
    assert.equal(unknown.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  } finally {
    await rc.close();
  }
});
