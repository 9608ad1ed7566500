// Golden-bytes fixtures as commented hex files in test/remoting/fixtures. UPDATE_GOLDEN=1
// rewrites them from the actual bytes; otherwise a test compares against the stored copy.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

export function parseHex(text: string): Buffer {
  const hex = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
  if (!/^(?:[0-9a-f]{2})*$/i.test(hex)) throw new Error('fixture is not hex');
  return Buffer.from(hex, 'hex');
}

export function formatHex(bytes: Buffer, comment: string): string {
  const lines = [`# ${comment}`, `# ${bytes.length} bytes; regenerate with UPDATE_GOLDEN=1`];
  for (let p = 0; p < bytes.length; p += 16) {
    const row = bytes.subarray(p, p + 16);
    const hex = row.toString('hex').replace(/(..)/g, '$1 ').trim();
    const ascii = row.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
    lines.push(`${hex.padEnd(47)}  # ${ascii}`);
  }
  return lines.join('\n') + '\n';
}

export function readGolden(name: string): Buffer {
  return parseHex(readFileSync(FIXTURES + name, 'utf8'));
}

/** Compares `actual` with fixtures/<name>, or writes it there under UPDATE_GOLDEN=1. */
export function assertGolden(name: string, actual: Buffer, comment: string): void {
  const path = FIXTURES + name;
  if (UPDATE || !existsSync(path)) {
    if (!UPDATE) assert.fail(`fixture ${name} is missing: run the test with UPDATE_GOLDEN=1 to create it`);
    writeFileSync(path, formatHex(actual, comment));
    return;
  }
  assert.equal(actual.toString('hex'), readGolden(name).toString('hex'), `bytes differ from fixture ${name}`);
}
