// Finds every *.test.ts under test/ (or under the paths given) and runs them with
// Node's own test runner through tsx. Node 20's --test does not expand globs itself.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const files = (roots.length ? roots : ['test']).flatMap((r) => collect(r, []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const child = spawn(
  process.execPath,
  // --test-force-exit: a file whose tests have all finished exits even if a client it used left a
  // timer behind (ali-ons keeps its timers when its close() meets a dead broker), so one leaked
  // handle cannot stall the suite. --test-timeout: a test that never settles fails after 5 minutes
  // instead of holding the run; the longest test takes about a minute.
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-force-exit', '--test-timeout=300000', ...flags, ...files],
  { stdio: 'inherit' },
);
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
