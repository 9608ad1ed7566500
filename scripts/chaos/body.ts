// Message bodies that prove themselves: "chaos <round> <seq> <padding> <digest>", the digest a
// SHA-256 prefix of everything before it, so a stored body that was cut, shifted or overwritten
// is told apart from a missing one.
import { createHash } from 'node:crypto';
import type { Rng } from './random.js';

const PAD = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface BodyId {
  round: number;
  seq: number;
  /** "<round>-<seq>", unique within one chaos run. */
  id: string;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** A body of roughly minBytes..maxBytes; ali-ons compresses bodies from 4 KiB, keep maxBytes under that to store them as sent. */
export function makeBody(round: number, seq: number, rng: Rng, minBytes = 64, maxBytes = 2048): Buffer {
  const len = rng.int(minBytes, maxBytes);
  let pad = '';
  const start = rng.int(0, PAD.length - 1);
  while (pad.length < len) pad += PAD[(start + pad.length) % PAD.length];
  const head = `chaos ${round} ${seq} ${pad}`;
  return Buffer.from(`${head} ${digest(head)}`);
}

/** The body's id, or the reason it is not a whole chaos body. */
export function parseBody(body: Buffer): BodyId | { error: string } {
  const text = body.toString('latin1');
  const cut = text.lastIndexOf(' ');
  if (cut < 0) return { error: 'no digest' };
  const head = text.slice(0, cut);
  if (digest(head) !== text.slice(cut + 1)) return { error: `digest mismatch (${body.length} bytes)` };
  const m = /^chaos (\d+) (\d+) /.exec(head);
  if (!m) return { error: 'not a chaos body' };
  const round = Number(m[1]);
  const seq = Number(m[2]);
  return { round, seq, id: `${round}-${seq}` };
}
