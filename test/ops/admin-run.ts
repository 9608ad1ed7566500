// Runs `apogee admin …` in this process (the real command line, parsed by commander) and
// captures what it prints: the ops suites run dozens of commands, a process each would cost
// seconds. The spawned form is covered by test/ops/bad-input.test.ts.
import { runCli } from '../../src/cli/program.js';

export interface AdminRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function admin(namesrvAddr: string, ...args: string[]): Promise<AdminRun> {
  let stdout = '';
  let stderr = '';
  const r = await runCli(['admin', ...args, '-n', namesrvAddr], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: {},
  });
  if (typeof r !== 'number') throw new Error('admin started a role');
  return { code: r, stdout, stderr };
}

/** Runs the command and parses its --json output, failing with its stderr when it did not exit 0. */
export async function adminJson<T>(namesrvAddr: string, ...args: string[]): Promise<T> {
  const r = await admin(namesrvAddr, ...args, '--json');
  if (r.code !== 0) throw new Error(`admin ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
