// RECALL_MESSAGE: cancel a timer message before it is due, by the handle its send returned.
import { BrokerError } from '../broker-error.js';
import { ResponseCode } from '../response-code.js';
import type { HeaderSchema } from './header-codec.js';

export const RECALL_MESSAGE_HEADER = {
  producerGroup: { type: 'string' },
  topic: { type: 'string', required: true },
  recallHandle: { type: 'string', required: true },
} as const satisfies HeaderSchema;

/** msgId: the recalled message's unique key. */
export const RECALL_MESSAGE_RESPONSE_HEADER = { msgId: { type: 'string', required: true } } as const satisfies HeaderSchema;

/** What a recall handle names: the timer message of uniqKey in topic, due at deliverMs, held by brokerName. */
export interface RecallHandle {
  topic: string;
  brokerName: string;
  deliverMs: number;
  uniqKey: string;
}

/** Base64-URL of "v1 <realTopic> <brokerName> <deliverMs> <uniqKey>". */
export function encodeRecallHandle(h: RecallHandle): string {
  return Buffer.from(`v1 ${h.topic} ${h.brokerName} ${h.deliverMs} ${h.uniqKey}`, 'utf8').toString('base64url');
}

/** Throws BrokerError(ILLEGAL_OPERATION) for text that is not a handle encodeRecallHandle made. */
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
