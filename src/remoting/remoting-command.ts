// The RemotingCommand: one request or response of the 4.x "remoting" protocol.

export const SerializeType = { JSON: 0, ROCKETMQ: 1 } as const;
export type SerializeTypeValue = (typeof SerializeType)[keyof typeof SerializeType];

/** Header `flag` bits: bit 0 marks a response, bit 1 a oneway request (no response expected). */
export const RPC_TYPE_RESPONSE = 1;
export const RPC_ONEWAY = 2;

export interface RemotingCommand {
  code: number;
  language: string;
  version: number;
  opaque: number;
  flag: number;
  remark?: string;
  /** Incoming values are always strings: ali-ons sends JSON numbers and booleans, which the codec coerces. */
  extFields: Record<string, string>;
  /** Incoming: one Buffer (a view into the frame) or undefined. Outgoing may be a list of slices (pull bodies). */
  body?: Buffer | Buffer[];
  serializeType: SerializeTypeValue;
}

export type ExtInput = Record<string, string | number | boolean | bigint | undefined | null>;

/** ali-ons pins version 121 (V3_4_9); our own client announces V5_3_3. */
export const CLIENT_VERSION = 479;

let nextOpaque = 0;

/** A process-wide request id; stays a positive int32 as Java and ali-ons expect. */
export function newOpaque(): number {
  nextOpaque = nextOpaque >= 0x7ffffff0 ? 1 : nextOpaque + 1;
  return nextOpaque;
}

export function toExtFields(input: ExtInput | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (input) {
    for (const key in input) {
      const v = input[key];
      if (v !== undefined && v !== null) out[key] = String(v);
    }
  }
  return out;
}

export function createRequest(code: number, extFields?: ExtInput, body?: Buffer | Buffer[]): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version: CLIENT_VERSION,
    opaque: newOpaque(),
    flag: 0,
    extFields: toExtFields(extFields),
    body,
    serializeType: SerializeType.JSON,
  };
}

/** A response; the server fills in opaque, the response flag and the serialize type from the request. */
export function createResponse(
  code: number,
  remark?: string,
  extFields?: ExtInput,
  body?: Buffer | Buffer[],
): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version: 0,
    opaque: 0,
    flag: RPC_TYPE_RESPONSE,
    remark,
    extFields: toExtFields(extFields),
    body,
    serializeType: SerializeType.JSON,
  };
}

export function isResponse(cmd: RemotingCommand): boolean {
  return (cmd.flag & RPC_TYPE_RESPONSE) !== 0;
}

export function isOneway(cmd: RemotingCommand): boolean {
  return (cmd.flag & RPC_ONEWAY) !== 0;
}

export function markOneway(cmd: RemotingCommand): RemotingCommand {
  cmd.flag |= RPC_ONEWAY;
  return cmd;
}

const EMPTY = Buffer.alloc(0);

/** The body as one Buffer (empty when absent); concatenates an outgoing list. */
export function bodyOf(cmd: RemotingCommand): Buffer {
  const b = cmd.body;
  if (b === undefined) return EMPTY;
  if (Buffer.isBuffer(b)) return b;
  return b.length === 1 ? b[0] : Buffer.concat(b);
}

export function bodyLength(body: Buffer | Buffer[] | undefined): number {
  if (body === undefined) return 0;
  if (Buffer.isBuffer(body)) return body.length;
  let n = 0;
  for (const b of body) n += b.length;
  return n;
}
