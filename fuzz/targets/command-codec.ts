// decodeCommand on single frames, JSON and ROCKETMQ binary headers. Each input is tried as it is
// and with its length word repaired (so mutations reach the header instead of dying at the first
// check). A decoded command must re-encode, in its own header form, to a frame that decodes to
// the same command. Rejection: FrameError.
import { isDeepStrictEqual } from 'node:util';
import { bodyOf, decodeCommand, encodeCommandToBuffer, FrameError, type RemotingCommand } from '../../src/remoting/index.js';
import { check, rejection, type FuzzTarget, type Verdict } from '../target.js';
import { frameDictionary, frameSeeds } from './remoting-seeds.js';

/** The header fields; -0 (JSON may say "code":-0) counts as 0, as it does in every lookup. */
function head(c: RemotingCommand): unknown {
  const z = (n: number): number => (n === 0 ? 0 : n);
  return { ...c, code: z(c.code), version: z(c.version), opaque: z(c.opaque), flag: z(c.flag), body: undefined, extFields: { ...c.extFields } };
}

function roundTrip(cmd: RemotingCommand): void {
  let again: RemotingCommand;
  try {
    again = decodeCommand(encodeCommandToBuffer(cmd));
  } catch (err) {
    throw new Error(`a decoded command does not re-encode to a decodable frame: ${(err as Error).message}`, { cause: err });
  }
  check(isDeepStrictEqual(head(again), head(cmd)), () => `re-encoded command differs: ${JSON.stringify(head(again)).slice(0, 300)} vs ${JSON.stringify(head(cmd)).slice(0, 300)}`);
  check(bodyOf(again).equals(bodyOf(cmd)), 're-encoded body differs');
}

function decodeOne(frame: Buffer): Verdict {
  let cmd: RemotingCommand;
  try {
    cmd = decodeCommand(frame);
  } catch (err) {
    return rejection(err, [FrameError]);
  }
  check(typeof cmd.code === 'number' && Number.isInteger(cmd.code), 'code is not an integer');
  for (const k in cmd.extFields) check(typeof cmd.extFields[k] === 'string', () => `extFields.${k} is not a string`);
  const body = cmd.body;
  if (body !== undefined) check(Buffer.isBuffer(body) && body.buffer === frame.buffer, 'body is not a view of the frame');
  roundTrip(cmd);
  return 'accepted';
}

export const commandCodecTarget: FuzzTarget = {
  name: 'command-codec',
  description: 'decodeCommand (JSON and ROCKETMQ headers): FrameError or a command that round-trips',
  weight: 15,
  timeBoundMs: 200,
  maxInputLength: 8192,
  seeds: frameSeeds,
  dictionary: frameDictionary,
  run(input: Buffer): Verdict {
    const asIs = decodeOne(input);
    if (input.length < 4 || input.readInt32BE(0) === input.length - 4) return asIs;
    const fixed = Buffer.from(input);
    fixed.writeInt32BE(input.length - 4, 0);
    return decodeOne(fixed);
  },
};
