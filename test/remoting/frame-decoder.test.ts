import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_MAX_FRAME_LENGTH,
  decodeCommand,
  encodeCommandToBuffer,
  FrameDecoder,
  FrameError,
  RequestCode,
  SerializeType,
  type RemotingCommand,
} from '../../src/remoting/index.js';

function request(opaque: number, body: Buffer | undefined, serializeType: 0 | 1 = SerializeType.JSON): RemotingCommand {
  return {
    code: RequestCode.PULL_MESSAGE,
    language: 'JAVA',
    version: 479,
    opaque,
    flag: 0,
    remark: opaque % 2 ? 'é' : undefined,
    extFields: { topic: 'T', queueId: String(opaque) },
    body,
    serializeType,
  };
}

// Frames of different shapes back to back: bodiless, tiny, larger than a typical chunk, binary.
const FRAMES = [
  encodeCommandToBuffer(request(1, undefined)),
  encodeCommandToBuffer(request(2, Buffer.from('x'))),
  encodeCommandToBuffer(request(3, Buffer.alloc(300, 0xab), SerializeType.ROCKETMQ)),
  encodeCommandToBuffer(request(4, undefined, SerializeType.ROCKETMQ)),
  encodeCommandToBuffer(request(5, Buffer.alloc(70, 1))),
];
const STREAM = Buffer.concat(FRAMES);
const WANT = FRAMES.map((f) => f.toString('hex'));

function feed(chunks: Buffer[], max?: number): string[] {
  const d = new FrameDecoder(max);
  const out: string[] = [];
  for (const c of chunks) d.push(c, (f) => out.push(f.toString('hex')));
  assert.equal(d.buffered, 0, 'nothing left over after whole frames');
  return out;
}

void describe('frame decoder', () => {
  void test('frame decoder - one chunk holding several frames yields each frame', () => {
    assert.deepEqual(feed([STREAM]), WANT);
  });

  void test('frame decoder - one byte at a time yields the same frames', () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < STREAM.length; i++) chunks.push(STREAM.subarray(i, i + 1));
    assert.deepEqual(feed(chunks), WANT);
  });

  void test('frame decoder - split at every offset yields the same frames', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      assert.deepEqual(feed([STREAM.subarray(0, cut), STREAM.subarray(cut)]), WANT, `split at ${cut}`);
    }
  });

  void test('frame decoder - split at every pair of offsets yields the same frames', () => {
    const small = Buffer.concat([FRAMES[0], FRAMES[1], FRAMES[3]]);
    const want = [FRAMES[0], FRAMES[1], FRAMES[3]].map((f) => f.toString('hex'));
    for (let a = 0; a <= small.length; a++) {
      for (let b = a; b <= small.length; b++) {
        assert.deepEqual(feed([small.subarray(0, a), small.subarray(a, b), small.subarray(b)]), want, `split at ${a}, ${b}`);
      }
    }
  });

  void test('frame decoder - frames decode to their commands after byte-at-a-time feeding', () => {
    const d = new FrameDecoder();
    const opaques: number[] = [];
    for (let i = 0; i < STREAM.length; i++) d.push(STREAM.subarray(i, i + 1), (f) => opaques.push(decodeCommand(f).opaque));
    assert.deepEqual(opaques, [1, 2, 3, 4, 5]);
  });

  void test('frame decoder - frames inside one chunk are views, not copies', () => {
    const frames: Buffer[] = [];
    new FrameDecoder().push(STREAM, (f) => frames.push(f));
    assert.equal(frames.length, FRAMES.length);
    for (const f of frames) assert.equal(f.buffer, STREAM.buffer);
  });

  void test('frame decoder - buffered counts the bytes of an incomplete frame', () => {
    const d = new FrameDecoder();
    let n = 0;
    d.push(STREAM.subarray(0, 3), () => n++);
    assert.equal(d.buffered, 3);
    d.push(STREAM.subarray(3, FRAMES[0].length + 10), () => n++);
    assert.equal(n, 1);
    assert.equal(d.buffered, 10);
  });

  void test('frame decoder - a frame of exactly the maximum length passes', () => {
    const frame = encodeCommandToBuffer(request(9, Buffer.alloc(1000)));
    assert.deepEqual(feed([frame], frame.length - 4), [frame.toString('hex')]);
    assert.throws(() => feed([frame], frame.length - 5), FrameError);
  });
});

function lengthWord(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

void describe('frame decoder malformed input', () => {
  const BAD: [string, number][] = [
    ['negative length', -1],
    ['most negative length', -2147483648],
    ['zero length', 0],
    ['length 3, below the header-length word', 3],
    ['length above the maximum', DEFAULT_MAX_FRAME_LENGTH + 1],
    ['length 0x7fffffff', 0x7fffffff],
  ];
  for (const [name, len] of BAD) {
    void test(`frame decoder - malformed: ${name} → FrameError as soon as the length word is complete`, () => {
      const d = new FrameDecoder();
      assert.throws(() => d.push(lengthWord(len), () => assert.fail('no frame expected')), FrameError);
    });

    void test(`frame decoder - malformed: ${name} split across chunks → FrameError`, () => {
      const d = new FrameDecoder();
      const w = lengthWord(len);
      d.push(w.subarray(0, 1), () => assert.fail('no frame'));
      d.push(w.subarray(1, 3), () => assert.fail('no frame'));
      assert.throws(() => d.push(w.subarray(3), () => assert.fail('no frame')), FrameError);
    });
  }

  void test('frame decoder - malformed: a bad frame after good ones still yields the good ones first', () => {
    const d = new FrameDecoder();
    const got: string[] = [];
    assert.throws(() => d.push(Buffer.concat([FRAMES[0], FRAMES[1], lengthWord(-7)]), (f) => got.push(f.toString('hex'))), FrameError);
    assert.deepEqual(got, WANT.slice(0, 2));
  });

  void test('frame decoder - malformed: a custom maximum is enforced', () => {
    const d = new FrameDecoder(100);
    assert.throws(() => d.push(lengthWord(101), () => undefined), /exceeds the maximum of 100/);
  });

  void test('frame decoder - a huge declared length does not allocate ahead of the bytes', () => {
    // 16 MiB declared, only a few bytes sent: the decoder must hold what arrived, not the declared size.
    const before = process.memoryUsage().arrayBuffers;
    const decoders: FrameDecoder[] = [];
    for (let i = 0; i < 20; i++) {
      const d = new FrameDecoder();
      d.push(Buffer.concat([lengthWord(DEFAULT_MAX_FRAME_LENGTH), Buffer.alloc(60)]), () => assert.fail('no frame'));
      d.push(Buffer.alloc(100), () => assert.fail('no frame'));
      assert.equal(d.buffered, 164);
      decoders.push(d);
    }
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 8 * 1024 * 1024, `20 decoders waiting on 16 MiB frames grew array buffers by ${grown} bytes`);
  });
});
