// Valid remoting frames to mutate: what the real clients sent (golden bytes of ali-ons and of the
// binary ROCKETMQ header) and commands of our own encoder in both header forms.
import { readGolden } from '../../test/remoting/golden.js';
import { encodeCommandToBuffer, RequestCode, ResponseCode, SerializeType, type RemotingCommand } from '../../src/remoting/index.js';
import { int32Tokens, tokens } from '../mutator.js';

const GOLDEN = ['ali-ons-send-message-v2.hex', 'pull-request-rocketmq.hex', 'send-response-json.hex', 'send-response-rocketmq.hex'];

function command(over: Partial<RemotingCommand>): RemotingCommand {
  return { code: RequestCode.SEND_MESSAGE_V2, language: 'JAVA', version: 479, opaque: 7, flag: 0, extFields: {}, serializeType: SerializeType.JSON, ...over };
}

const SEND_V2 = { a: 'PG', b: 'TopicTest', c: 'TBW102', d: '4', e: '3', f: '0', g: '1700000000000', h: '0', i: 'TAGS\u0001t\u0002KEYS\u0001k1 k2\u0002', j: '0', k: 'false', m: 'false' };

export function frameSeeds(): Buffer[] {
  const out = GOLDEN.map(readGolden);
  for (const serializeType of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
    out.push(
      encodeCommandToBuffer(command({ serializeType, extFields: SEND_V2, body: Buffer.from('hello body') })),
      encodeCommandToBuffer(command({ serializeType, code: RequestCode.PULL_MESSAGE, extFields: { consumerGroup: 'CG', topic: 'T', queueId: '0', queueOffset: '12' } })),
      encodeCommandToBuffer(command({ serializeType, code: ResponseCode.SYSTEM_ERROR, flag: 1, remark: 'topic 不存在 ✓', extFields: {} })),
      encodeCommandToBuffer(command({ serializeType, code: 34, extFields: {}, body: Buffer.from('{"clientID":"c","producerDataSet":[]}') })),
    );
  }
  return out;
}

export function frameDictionary(): Buffer[] {
  return [
    ...tokens('{', '}', '[', ']', ',', ':', '"', '\\', '\\u0000', '\\ud800', 'null', 'true', '1e999', '-0', '9007199254740993', '0.5'),
    ...tokens('"code":', '"extFields":', '"remark":', '"opaque":', '"flag":', '"language":', '"__proto__":', '"constructor":', '"version":'),
    ...tokens('\u0001', '\u0002', '\xff\xfe', Buffer.from([0xc3]), Buffer.from([0xf0, 0x9f, 0x98])),
    ...int32Tokens(0, -1, 0x7fffffff, 0x01000000, 0x00ffffff, 16 * 1024 * 1024, 16 * 1024 * 1024 + 1, 4, 8, 21),
    Buffer.from([0x7f, 0xff]),
    Buffer.from([0x80, 0x00]),
  ];
}
