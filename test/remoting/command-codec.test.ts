import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  bodyOf,
  decodeCommand,
  encodeCommand,
  encodeCommandToBuffer,
  FrameDecoder,
  FrameError,
  LanguageCode,
  RequestCode,
  ResponseCode,
  RPC_ONEWAY,
  RPC_TYPE_RESPONSE,
  SerializeType,
  type RemotingCommand,
  type SerializeTypeValue,
} from '../../src/remoting/index.js';
import { AliRemotingCommand } from './ali-ons.js';
import { assertGolden, readGolden } from './golden.js';

const TYPES: [string, SerializeTypeValue][] = [
  ['JSON', SerializeType.JSON],
  ['ROCKETMQ', SerializeType.ROCKETMQ],
];

function cmd(over: Partial<RemotingCommand>): RemotingCommand {
  return {
    code: RequestCode.SEND_MESSAGE_V2,
    language: 'JAVA',
    version: 479,
    opaque: 1,
    flag: 0,
    extFields: {},
    serializeType: SerializeType.JSON,
    ...over,
  };
}

/** What must survive a round trip: everything but the body's shape (one Buffer or a list). */
function assertSameCommand(got: RemotingCommand, want: RemotingCommand): void {
  const { body: gotBody, ...gotHead } = got;
  const { body: wantBody, ...wantHead } = want;
  assert.deepEqual({ ...gotHead, remark: gotHead.remark }, { ...wantHead, remark: wantHead.remark });
  assert.equal(bodyOf(got).toString('hex'), bodyOf(want).toString('hex'));
  if (bodyOf(want).length === 0) assert.equal(gotBody, undefined, 'an empty body decodes as absent');
  else assert.ok(Buffer.isBuffer(gotBody));
  void wantBody;
}

const manyFields: Record<string, string> = {};
for (let i = 0; i < 300; i++) manyFields[`field${i}`] = `value-${i}-${'x'.repeat(i % 17)}`;

const ROUND_TRIP: [string, Partial<RemotingCommand>][] = [
  ['request with a few extFields', { extFields: { topic: 'TopicTest', queueId: '3' }, body: Buffer.from('hello') }],
  ['response with a non-ASCII remark', { code: ResponseCode.TOPIC_NOT_EXIST, flag: RPC_TYPE_RESPONSE, remark: 'topic 不存在 ✓ 😀 é', opaque: 77 }],
  ['oneway request', { code: RequestCode.UPDATE_CONSUMER_OFFSET, flag: RPC_ONEWAY, extFields: { commitOffset: '120' } }],
  ['empty body', { body: Buffer.alloc(0) }],
  ['absent body', { body: undefined }],
  ['many extFields', { extFields: manyFields, body: Buffer.alloc(3000, 7) }],
  ['Buffer[] body', { body: [Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cdef'), Buffer.alloc(1000, 0xfe)] }],
  ['non-ASCII keys and values', { extFields: { 'ключ': 'значение', k: 'ü'.repeat(100), e: '' } }],
  ['negative opaque and flag bits', { opaque: -5, flag: 0x7ffffff0 }],
  ['every language', { language: 'NODE_JS', version: 121 }],
  ['large body', { body: Buffer.alloc(256 * 1024, 0x41) }],
];

void describe('command codec', () => {
  for (const [typeName, type] of TYPES) {
    for (const [name, over] of ROUND_TRIP) {
      void test(`command codec - ${typeName} round trip: ${name}`, () => {
        const c = cmd({ ...over, serializeType: type });
        const frame = encodeCommandToBuffer(c);
        assert.equal(frame.readInt32BE(0), frame.length - 4, 'length word counts the bytes after itself');
        assert.equal(frame[4], type, 'high byte of the second word is the serialize type');
        assertSameCommand(decodeCommand(frame), c);
      });
    }
  }

  void test('command codec - encodeCommand returns the head then the body slices without copying them', () => {
    const parts = [Buffer.from('ab'), Buffer.from('cd')];
    const out = encodeCommand(cmd({ body: parts }));
    assert.equal(out.length, 3);
    assert.equal(out[1], parts[0]);
    assert.equal(out[2], parts[1]);
    assert.equal(encodeCommand(cmd({ body: Buffer.alloc(0) })).length, 1);
  });

  void test('command codec - decoded body is a view into the frame', () => {
    const frame = encodeCommandToBuffer(cmd({ body: Buffer.from('payload') }));
    const body = decodeCommand(frame).body as Buffer;
    frame[frame.length - 1] = 0x21;
    assert.equal(body.toString(), 'payloa!');
  });

  void test('command codec - empty remark: JSON keeps it, ROCKETMQ reads length 0 as none', () => {
    assert.equal(decodeCommand(encodeCommandToBuffer(cmd({ remark: '' }))).remark, '');
    assert.equal(decodeCommand(encodeCommandToBuffer(cmd({ remark: '', serializeType: SerializeType.ROCKETMQ }))).remark, undefined);
  });

  void test('command codec - unknown language names become OTHER in the binary header', () => {
    const got = decodeCommand(encodeCommandToBuffer(cmd({ language: 'COBOL', serializeType: SerializeType.ROCKETMQ })));
    assert.equal(got.language, 'OTHER');
    for (const name of Object.keys(LanguageCode)) {
      assert.equal(decodeCommand(encodeCommandToBuffer(cmd({ language: name, serializeType: SerializeType.ROCKETMQ }))).language, name);
    }
  });

  void test('command codec - JSON header is strict JSON with the fields ali-ons and Java read', () => {
    const frame = encodeCommandToBuffer(cmd({ code: 0, flag: RPC_TYPE_RESPONSE, opaque: 9, remark: 'ok', extFields: { msgId: 'X' } }));
    const headerLen = frame.readInt32BE(4);
    const h = JSON.parse(frame.toString('utf8', 8, 8 + headerLen)) as Record<string, unknown>;
    assert.deepEqual(h, {
      code: 0,
      language: 'JAVA',
      version: 479,
      opaque: 9,
      flag: 1,
      remark: 'ok',
      extFields: { msgId: 'X' },
      serializeTypeCurrentRPC: 'JSON',
    });
  });

  void test('command codec - JSON extFields values of any JSON type become strings, nulls are dropped', () => {
    const header = JSON.stringify({
      code: 310,
      language: 'JAVA',
      version: 121,
      opaque: 3,
      flag: 0,
      extFields: { n: 3, neg: -1.5, t: true, f: false, s: 'x', z: null, o: { a: 1 }, big: 1700000000123 },
      unknownKey: [1, 2],
    });
    const frame = jsonFrame(header);
    assert.deepEqual(decodeCommand(frame).extFields, {
      n: '3',
      neg: '-1.5',
      t: 'true',
      f: 'false',
      s: 'x',
      o: '{"a":1}',
      big: '1700000000123',
    });
  });

  void test('command codec - a JSON header without optional fields gets defaults', () => {
    const got = decodeCommand(jsonFrame('{"code":34}'));
    assert.deepEqual(
      { ...got },
      { code: 34, language: 'OTHER', version: 0, opaque: 0, flag: 0, remark: undefined, extFields: {}, serializeType: SerializeType.JSON },
    );
  });

  void test('command codec - "__proto__" extFields keys stay plain string fields in both types', () => {
    const header = '{"code":1,"extFields":{"__proto__":5,"a":"b"}}';
    const ext = decodeCommand(jsonFrame(header)).extFields;
    assert.equal(Object.getPrototypeOf(ext), Object.prototype);
    assert.deepEqual(Object.entries(ext), [
      ['__proto__', '5'],
      ['a', 'b'],
    ]);
    const fields = JSON.parse('{"__proto__":"5","a":"b"}') as Record<string, string>;
    const bin = decodeCommand(encodeCommandToBuffer(cmd({ extFields: fields, serializeType: SerializeType.ROCKETMQ }))).extFields;
    assert.equal(Object.getPrototypeOf(bin), Object.prototype);
    assert.deepEqual(Object.entries(bin), [
      ['__proto__', '5'],
      ['a', 'b'],
    ]);
  });
});

function jsonFrame(header: string, body = Buffer.alloc(0), type = 0): Buffer {
  const h = Buffer.from(header);
  const f = Buffer.alloc(8 + h.length + body.length);
  f.writeInt32BE(4 + h.length + body.length, 0);
  f.writeUInt32BE(((type << 24) | h.length) >>> 0, 4);
  h.copy(f, 8);
  body.copy(f, 8 + h.length);
  return f;
}

/** A binary header frame built by hand so lengths can lie. */
function binaryFrame(parts: { remarkLen?: number; remark?: Buffer; mapLen?: number; map?: Buffer; fixed?: number }): Buffer {
  const fixed = Buffer.alloc(parts.fixed ?? 13);
  if ((parts.fixed ?? 13) >= 13) {
    fixed.writeInt16BE(310, 0);
    fixed.writeInt32BE(1, 5);
  }
  const chunks: Buffer[] = [fixed];
  if (parts.remarkLen !== undefined) {
    const w = Buffer.alloc(4);
    w.writeInt32BE(parts.remarkLen);
    chunks.push(w, parts.remark ?? Buffer.alloc(0));
  }
  if (parts.mapLen !== undefined) {
    const w = Buffer.alloc(4);
    w.writeInt32BE(parts.mapLen);
    chunks.push(w, parts.map ?? Buffer.alloc(0));
  }
  const header = Buffer.concat(chunks);
  const f = Buffer.alloc(8 + header.length);
  f.writeInt32BE(4 + header.length, 0);
  f.writeUInt32BE(((1 << 24) | header.length) >>> 0, 4);
  header.copy(f, 8);
  return f;
}

function mapEntry(key: string, value: string, keyLen?: number, valueLen?: number): Buffer {
  const k = Buffer.from(key);
  const v = Buffer.from(value);
  const b = Buffer.alloc(6 + k.length + v.length);
  b.writeInt16BE(keyLen ?? k.length, 0);
  k.copy(b, 2);
  b.writeInt32BE(valueLen ?? v.length, 2 + k.length);
  v.copy(b, 6 + k.length);
  return b;
}

void describe('command codec malformed input', () => {
  const valid = encodeCommandToBuffer(cmd({ extFields: { a: 'b' }, body: Buffer.from('xyz') }));
  const withLength = (f: Buffer, len: number): Buffer => {
    const c = Buffer.from(f);
    c.writeInt32BE(len, 0);
    return c;
  };
  const withHeaderWord = (f: Buffer, word: number): Buffer => {
    const c = Buffer.from(f);
    c.writeUInt32BE(word >>> 0, 4);
    return c;
  };
  const entry = mapEntry('k', 'v');
  const CASES: [string, Buffer, RegExp][] = [
    ['empty buffer', Buffer.alloc(0), /shorter than its 8-byte prefix/],
    ['7 bytes', Buffer.alloc(7), /shorter/],
    ['negative length word', withLength(valid, -1), /length word/],
    ['length word larger than the frame', withLength(valid, valid.length), /length word/],
    ['length word smaller than the frame', withLength(valid, valid.length - 5), /length word/],
    ['header length beyond the frame', withHeaderWord(valid, valid.length), /header length/],
    ['header length 0xffffff', withHeaderWord(valid, 0xffffff), /header length/],
    ['bad JSON', jsonFrame('{"code":1,'), /not valid JSON/],
    ['empty JSON header', jsonFrame(''), /not valid JSON/],
    ['JSON array header', jsonFrame('[1,2,3]'), /not an object/],
    ['JSON null header', jsonFrame('null'), /not an object/],
    ['JSON string header', jsonFrame('"code"'), /not an object/],
    ['missing code', jsonFrame('{"opaque":1,"flag":0}'), /"code"/],
    ['string code', jsonFrame('{"code":"10"}'), /"code"/],
    ['fractional code', jsonFrame('{"code":1.5}'), /"code"/],
    ['unknown serialize type 2', jsonFrame('{"code":1}', Buffer.alloc(0), 2), /serialize type 2/],
    ['unknown serialize type 255', jsonFrame('{"code":1}', Buffer.alloc(0), 255), /serialize type 255/],
    ['binary header shorter than its fixed part', binaryFrame({ fixed: 10 }), /shorter than its 21 fixed bytes/],
    ['binary header without map length', binaryFrame({ remarkLen: 0 }), /shorter/],
    ['binary remark length negative', binaryFrame({ remarkLen: -1, mapLen: 0 }), /remark length -1/],
    ['binary remark length beyond the header', binaryFrame({ remarkLen: 50, remark: Buffer.from('abc'), mapLen: 0 }), /remark length 50/],
    ['binary remark eating the map length', binaryFrame({ remarkLen: 4, remark: Buffer.alloc(2), mapLen: 0 }), /remark length 4/],
    ['binary map length negative', binaryFrame({ remarkLen: 0, mapLen: -8 }), /extFields length -8/],
    ['binary map length beyond the header', binaryFrame({ remarkLen: 0, mapLen: 100, map: entry }), /extFields length 100/],
    ['binary map with a 1-byte tail', binaryFrame({ remarkLen: 0, mapLen: 1, map: Buffer.alloc(1) }), /truncated extFields key length/],
    ['binary key length negative', binaryFrame({ remarkLen: 0, mapLen: entry.length, map: mapEntry('k', 'v', -1) }), /key length -1/],
    ['binary key length beyond the map', binaryFrame({ remarkLen: 0, mapLen: entry.length, map: mapEntry('k', 'v', 30) }), /key length 30/],
    ['binary value length negative', binaryFrame({ remarkLen: 0, mapLen: entry.length, map: mapEntry('k', 'v', 1, -2) }), /value length -2/],
    ['binary value length beyond the map', binaryFrame({ remarkLen: 0, mapLen: entry.length, map: mapEntry('k', 'v', 1, 2) }), /value length 2/],
    ['binary value length huge', binaryFrame({ remarkLen: 0, mapLen: entry.length, map: mapEntry('k', 'v', 1, 0x7fffffff) }), /value length/],
  ];
  for (const [name, frame, message] of CASES) {
    void test(`command codec - malformed: ${name} → FrameError`, () => {
      assert.throws(() => decodeCommand(frame), (err: unknown) => {
        assert.ok(err instanceof FrameError, `expected FrameError, got ${String(err)}`);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  void test('command codec - malformed: random bytes after a valid prefix only ever raise FrameError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 255 }), fc.nat(300), (bytes, type, hl) => {
        const f = Buffer.alloc(8 + bytes.length);
        f.writeInt32BE(4 + bytes.length, 0);
        f.writeUInt32BE(((type << 24) | hl) >>> 0, 4);
        Buffer.from(bytes).copy(f, 8);
        try {
          decodeCommand(f);
        } catch (err) {
          if (!(err instanceof FrameError)) throw err;
        }
      }),
      { numRuns: 3000 },
    );
  });

  void test('command codec - malformed: mutated valid binary frames only ever raise FrameError', () => {
    const base = encodeCommandToBuffer(cmd({ remark: 'r', extFields: { a: '1', bb: '22' }, serializeType: SerializeType.ROCKETMQ }));
    fc.assert(
      fc.property(fc.nat(base.length - 9), fc.integer({ min: 0, max: 255 }), (pos, value) => {
        const f = Buffer.from(base);
        f[8 + pos] = value;
        try {
          decodeCommand(f);
        } catch (err) {
          if (!(err instanceof FrameError)) throw err;
        }
      }),
      { numRuns: 3000 },
    );
  });
});

void describe('command codec golden bytes', () => {
  const aliSend = (): Buffer => {
    const c = new AliRemotingCommand({
      code: RequestCode.SEND_MESSAGE_V2,
      opaque: 42,
      customHeader: {
        a: 'please_rename_unique_group_name',
        b: 'TopicTest',
        c: 'TBW102',
        d: 4,
        e: 3,
        f: 0,
        g: 1700000000123,
        h: 0,
        i: 'TAGS\u0001TagA\u0002KEYS\u0001k1\u0002UNIQ_KEY\u0001AC1100010001\u0002',
        j: 0,
        k: false,
        l: undefined,
      },
    });
    c.body = Buffer.from('Hello RocketMQ');
    return c.encode();
  };

  void test('command codec - golden: ali-ons SEND_MESSAGE_V2 bytes are what the installed ali-ons encodes', () => {
    assertGolden('ali-ons-send-message-v2.hex', aliSend(), 'ali-ons 3.12.0 RemotingCommand.encode(): SEND_MESSAGE_V2, opaque 42, numeric extFields');
  });

  void test('command codec - golden: ali-ons SEND_MESSAGE_V2 decodes with string-valued extFields', () => {
    const got = decodeCommand(readGolden('ali-ons-send-message-v2.hex'));
    assert.equal(got.code, 310);
    assert.equal(got.language, 'JAVA');
    assert.equal(got.version, 121);
    assert.equal(got.opaque, 42);
    assert.equal(got.flag, 0);
    assert.equal(got.serializeType, SerializeType.JSON);
    assert.deepEqual(got.extFields, {
      a: 'please_rename_unique_group_name',
      b: 'TopicTest',
      c: 'TBW102',
      d: '4',
      e: '3',
      f: '0',
      g: '1700000000123',
      h: '0',
      i: 'TAGS\u0001TagA\u0002KEYS\u0001k1\u0002UNIQ_KEY\u0001AC1100010001\u0002',
      j: '0',
      k: 'false',
    });
    assert.equal((got.body as Buffer).toString(), 'Hello RocketMQ');
  });

  const ourResponse = (type: SerializeTypeValue): RemotingCommand =>
    cmd({
      code: ResponseCode.SUCCESS,
      version: 0,
      opaque: 42,
      flag: RPC_TYPE_RESPONSE,
      remark: 'ok 好',
      extFields: { msgId: '7F00000100002A9F0000000000000000', queueId: '3', queueOffset: '120' },
      serializeType: type,
    });

  void test('command codec - golden: our JSON SEND_MESSAGE_V2 response bytes', () => {
    assertGolden('send-response-json.hex', encodeCommandToBuffer(ourResponse(SerializeType.JSON)), 'our JSON response to SEND_MESSAGE_V2, opaque 42');
  });

  void test('command codec - golden: our ROCKETMQ binary SEND_MESSAGE_V2 response bytes', () => {
    assertGolden('send-response-rocketmq.hex', encodeCommandToBuffer(ourResponse(SerializeType.ROCKETMQ)), 'our ROCKETMQ binary response to SEND_MESSAGE_V2, opaque 42');
  });

  void test('command codec - golden: our ROCKETMQ binary request with a remark and body', () => {
    const c = cmd({ code: RequestCode.PULL_MESSAGE, opaque: 7, remark: 'r', extFields: { topic: 'T', queueId: '0' }, body: Buffer.from('B'), serializeType: SerializeType.ROCKETMQ });
    assertGolden('pull-request-rocketmq.hex', encodeCommandToBuffer(c), 'our ROCKETMQ binary PULL_MESSAGE request, opaque 7');
  });

  void test('command codec - ali-ons decodes our JSON response', () => {
    const frame = encodeCommandToBuffer({ ...ourResponse(SerializeType.JSON), body: Buffer.from('body!') });
    const got = AliRemotingCommand.decode(frame);
    assert.equal(got.code, 0);
    assert.equal(got.opaque, 42);
    assert.equal(got.isResponseType, true);
    assert.equal(got.remark, 'ok 好');
    assert.deepEqual(got.extFields, { msgId: '7F00000100002A9F0000000000000000', queueId: '3', queueOffset: '120' });
    assert.equal(Buffer.from(got.body as Buffer).toString(), 'body!');
  });

  void test('command codec - ali-ons decodes our JSON response with an empty body as bodiless', () => {
    const got = AliRemotingCommand.decode(encodeCommandToBuffer(ourResponse(SerializeType.JSON)));
    assert.equal(got.body, undefined);
    assert.equal(got.code, 0);
  });
});

// Commands whose every field survives both serialize types.
const arbText = fc.string({ unit: 'binary', maxLength: 40 });
const arbCommand = (type: SerializeTypeValue): fc.Arbitrary<RemotingCommand> =>
  fc.record({
    code: fc.integer({ min: -32768, max: 32767 }),
    language: fc.constantFrom(...Object.keys(LanguageCode)),
    version: fc.integer({ min: -32768, max: 32767 }),
    opaque: fc.integer({ min: -2147483648, max: 2147483647 }),
    flag: fc.integer({ min: -2147483648, max: 2147483647 }),
    remark: fc.option(fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }), { nil: undefined }),
    extFields: fc.array(fc.tuple(arbText, arbText), { maxLength: 12 }).map((e) => Object.fromEntries(e) as Record<string, string>),
    body: fc.option(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
        fc.array(fc.uint8Array({ maxLength: 50 }).map((a) => Buffer.from(a)), { maxLength: 4 }),
      ),
      { nil: undefined },
    ),
    serializeType: fc.constant(type),
  });

/** Cut points that split `len` bytes into chunks (sorted, distinct, inside the range). */
const arbCuts = (len: number): fc.Arbitrary<number[]> =>
  fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, len - 1) }), { maxLength: 20 }).map((a) => a.filter((x) => x < len).sort((x, y) => x - y));

void describe('command codec properties', () => {
  for (const [typeName, type] of TYPES) {
    void test(`command codec - property: ${typeName} commands survive encode, random chunking, FrameDecoder and decode`, () => {
      fc.assert(
        fc.property(
          fc.array(arbCommand(type), { minLength: 1, maxLength: 6 }).chain((cmds) => {
            const stream = Buffer.concat(cmds.map(encodeCommandToBuffer));
            return fc.tuple(fc.constant(cmds), fc.constant(stream), arbCuts(stream.length));
          }),
          ([cmds, stream, cuts]) => {
            const decoder = new FrameDecoder();
            const got: RemotingCommand[] = [];
            let prev = 0;
            for (const cut of [...cuts, stream.length]) {
              decoder.push(stream.subarray(prev, cut), (f) => got.push(decodeCommand(Buffer.from(f))));
              prev = cut;
            }
            assert.equal(decoder.buffered, 0);
            assert.equal(got.length, cmds.length);
            for (let i = 0; i < cmds.length; i++) assertSameCommand(got[i], cmds[i]);
          },
        ),
        { numRuns: 300 },
      );
    });
  }
});
