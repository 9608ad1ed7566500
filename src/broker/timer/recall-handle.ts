// The recall handle of a timer message: Base64-URL of "v1 <realTopic> <brokerName> <deliverMs> <uniqKey>".
import { BrokerError, ResponseCode } from '../../remoting/index.js';

export interface RecallHandle {
  topic: string;
  brokerName: string;
  deliverMs: number;
  uniqKey: string;
}

export function encodeRecallHandle(h: RecallHandle): string {
  return Buffer.from(`v1 ${h.topic} ${h.brokerName} ${h.deliverMs} ${h.uniqKey}`, 'utf8').toString('base64url');
}

export function decodeRecallHandle(handle: string): RecallHandle {
  const bad = (): never => {
    throw new BrokerError(ResponseCode.ILLEGAL_OPERATION, `recall handle is invalid: ${handle.slice(0, 80)}`);
  };
  if (!handle || handle.length > 4096) bad();
  const parts = Buffer.from(handle, 'base64url').toString('utf8').split(' ');
  if (parts.length !== 5 || parts[0] !== 'v1') bad();
  const deliverMs = Number(parts[3]);
  if (!Number.isSafeInteger(deliverMs) || !parts[1] || !parts[4]) bad();
  return { topic: parts[1], brokerName: parts[2], deliverMs, uniqKey: parts[4] };
}
