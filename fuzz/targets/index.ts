// Every fuzz target, in the order a run goes through them.
import type { FuzzTarget } from '../target.js';
import { batchBodyTarget } from './batch-body.js';
import { brokerConfTarget } from './broker-conf.js';
import { commandCodecTarget } from './command-codec.js';
import { commitLogRecoveryTarget } from './commit-log-recovery.js';
import { frameDecoderTarget } from './frame-decoder.js';
import { grpcRequestsTarget } from './grpc-requests.js';
import { headersTarget } from './headers.js';
import { messagePropertiesTarget } from './message-properties.js';
import { sql92Target } from './sql92.js';
import { storedRecordTarget } from './stored-record.js';

export const TARGETS: readonly FuzzTarget[] = [
  frameDecoderTarget,
  commandCodecTarget,
  headersTarget,
  batchBodyTarget,
  messagePropertiesTarget,
  storedRecordTarget,
  commitLogRecoveryTarget,
  sql92Target,
  brokerConfTarget,
  grpcRequestsTarget,
];

export function targetByName(name: string): FuzzTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target "${name}"; targets: ${TARGETS.map((x) => x.name).join(', ')}`);
  return t;
}
