// The streaming frame splitter fed arbitrary bytes: whole, in chunks the input itself chooses, and
// (short inputs) one byte at a time must all yield the same frames and the same error; every frame
// then goes through decodeCommand. Rejection: FrameError (the server closes that connection).
import { decodeCommand, FrameDecoder, FrameError } from '../../src/remoting/index.js';
import { Rand } from '../rand.js';
import { check, rejection, type FuzzTarget, type Verdict } from '../target.js';
import { frameDictionary, frameSeeds } from './remoting-seeds.js';

interface Split {
  frames: Buffer[];
  error?: string;
  buffered: number;
}

function split(input: Buffer, chunks: number[]): Split {
  const d = new FrameDecoder();
  const frames: Buffer[] = [];
  let p = 0;
  try {
    for (const n of chunks) {
      // A frame may be a view of the chunk: copy it, as the chunk is gone after push returns.
      d.push(input.subarray(p, p + n), (f) => frames.push(Buffer.from(f)));
      p += n;
    }
  } catch (err) {
    rejection(err, [FrameError], { pattern: /^frame length -?\d+ (is below the minimum|exceeds the maximum)/ });
    return { frames, error: (err as Error).message, buffered: -1 };
  }
  return { frames, buffered: d.buffered };
}

/** Chunk sizes for input: a cheap PRNG seeded from the input, so a replay cuts it the same way. */
function chunking(input: Buffer): number[] {
  let h = input.length;
  for (let i = 0; i < Math.min(input.length, 32); i++) h = Math.imul(h ^ input[i], 0x01000193);
  const r = new Rand(h);
  const out: number[] = [];
  for (let left = input.length; left > 0; ) {
    const n = Math.min(left, r.chance(0.3) ? 1 + r.int(4) : 1 + r.int(64));
    out.push(n);
    left -= n;
  }
  return out;
}

function sameSplit(a: Split, b: Split, how: string): void {
  check(a.error === b.error, () => `${how}: error ${JSON.stringify(b.error)} but whole input gave ${JSON.stringify(a.error)}`);
  check(a.frames.length === b.frames.length, () => `${how}: ${b.frames.length} frames but whole input gave ${a.frames.length}`);
  for (let i = 0; i < a.frames.length; i++) check(a.frames[i].equals(b.frames[i]), () => `${how}: frame ${i} differs`);
  check(a.buffered === b.buffered, () => `${how}: ${b.buffered} bytes buffered but whole input left ${a.buffered}`);
}

export const frameDecoderTarget: FuzzTarget = {
  name: 'frame-decoder',
  description: 'remoting frame splitter: whole vs chunked vs byte-at-a-time agree; frames decode or FrameError',
  weight: 12,
  timeBoundMs: 200,
  maxInputLength: 8192,
  seeds: () => {
    const frames = frameSeeds();
    // Streams of several frames back to back, as a connection carries them.
    return [...frames, Buffer.concat(frames.slice(0, 3)), Buffer.concat([frames[1], frames[0], frames[4]])];
  },
  dictionary: frameDictionary,
  run(input: Buffer): Verdict {
    const whole = split(input, input.length ? [input.length] : []);
    sameSplit(whole, split(input, chunking(input)), 'chunked');
    if (input.length <= 512) sameSplit(whole, split(input, new Array<number>(input.length).fill(1)), 'byte at a time');
    if (whole.error === undefined) {
      const rest = input.length - whole.frames.reduce((n, f) => n + f.length, 0);
      check(whole.buffered === rest, () => `${whole.buffered} bytes buffered, ${rest} left after the frames`);
    }
    let verdict: Verdict = whole.error === undefined ? 'accepted' : 'rejected';
    for (const f of whole.frames) {
      try {
        decodeCommand(f);
      } catch (err) {
        verdict = rejection(err, [FrameError]);
      }
    }
    return verdict;
  },
};
