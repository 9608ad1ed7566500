// Remoting codec throughput on one core: a typical SEND_MESSAGE_V2 request (single-letter
// header fields as ali-ons sends them, 1 KiB body), JSON and ROCKETMQ binary headers.
// Decode goes through FrameDecoder over large chunks holding many frames, as a socket
// delivers them, then decodeCommand; encode is encodeCommand.
// Run: node --import tsx bench/codec/codec-bench.ts [secondsPerCase]
import {
  decodeCommand,
  encodeCommand,
  encodeCommandToBuffer,
  FrameDecoder,
  RequestCode,
  SerializeType,
  type RemotingCommand,
  type SerializeTypeValue,
} from '../../src/remoting/index.js';

const SECONDS = Math.min(Math.max(Number(process.argv[2] ?? 2.5), 0.2), 10);
const FRAMES_PER_BUFFER = 4096;
const CHUNK = 64 * 1024;

function sendRequest(serializeType: SerializeTypeValue, opaque: number): RemotingCommand {
  const props = `TAGS\u0001TagA\u0002KEYS\u0001order-${opaque}\u0002UNIQ_KEY\u00017F0000010A2B18B4AAC2${opaque.toString(16).padStart(12, '0')}\u0002WAIT\u0001true\u0002`;
  return {
    code: RequestCode.SEND_MESSAGE_V2,
    language: 'JAVA',
    version: 121,
    opaque,
    flag: 0,
    extFields: {
      a: 'please_rename_unique_group_name',
      b: 'TopicTest',
      c: 'TBW102',
      d: '4',
      e: String(opaque & 3),
      f: '0',
      g: String(1_700_000_000_000 + opaque),
      h: '0',
      i: props,
      j: '0',
      k: 'false',
      l: '16',
      m: 'false',
      n: 'broker-a',
    },
    body: Buffer.alloc(1024, 0x61),
    serializeType,
  };
}

function run(label: string, fn: () => number): number {
  // Warm up so the JIT has settled before the timed run.
  const warmEnd = performance.now() + 300;
  while (performance.now() < warmEnd) fn();
  let frames = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  let now = start;
  while (now < end) {
    frames += fn();
    now = performance.now();
  }
  const rate = frames / ((now - start) / 1000);
  process.stdout.write(`${label.padEnd(40)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} frames/s\n`);
  return rate;
}

function benchEncode(type: SerializeTypeValue): () => number {
  const cmds = Array.from({ length: 256 }, (_, i) => sendRequest(type, i + 1));
  let sink = 0;
  return () => {
    for (const c of cmds) sink += encodeCommand(c).length;
    if (sink < 0) throw new Error('unreachable');
    return cmds.length;
  };
}

function benchDecode(type: SerializeTypeValue): () => number {
  const frames: Buffer[] = [];
  for (let i = 0; i < FRAMES_PER_BUFFER; i++) frames.push(encodeCommandToBuffer(sendRequest(type, i + 1)));
  const all = Buffer.concat(frames);
  const chunks: Buffer[] = [];
  for (let p = 0; p < all.length; p += CHUNK) chunks.push(all.subarray(p, Math.min(p + CHUNK, all.length)));
  let count = 0;
  let sink = 0;
  const onFrame = (frame: Buffer): void => {
    const cmd = decodeCommand(frame);
    sink += cmd.opaque;
    count++;
  };
  return () => {
    const decoder = new FrameDecoder();
    count = 0;
    for (const c of chunks) decoder.push(c, onFrame);
    if (count !== FRAMES_PER_BUFFER || sink < 0) throw new Error(`decoded ${count} of ${FRAMES_PER_BUFFER} frames`);
    return count;
  };
}

process.stdout.write(`remoting codec, SEND_MESSAGE_V2 + 1 KiB body, node ${process.version}, ${SECONDS}s per case\n`);
const results = {
  'encode JSON': run('encode JSON (encodeCommand)', benchEncode(SerializeType.JSON)),
  'encode ROCKETMQ': run('encode ROCKETMQ (encodeCommand)', benchEncode(SerializeType.ROCKETMQ)),
  'decode JSON': run('decode JSON (FrameDecoder+decode)', benchDecode(SerializeType.JSON)),
  'decode ROCKETMQ': run('decode ROCKETMQ (FrameDecoder+decode)', benchDecode(SerializeType.ROCKETMQ)),
};
const TARGET = 500_000;
for (const [name, rate] of Object.entries(results)) {
  if (rate < TARGET) process.stdout.write(`below target (${TARGET.toLocaleString('en-US')}/s): ${name}\n`);
}
