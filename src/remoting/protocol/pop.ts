// POP_MESSAGE, ACK_MESSAGE and CHANGE_MESSAGE_INVISIBLETIME (5.x receives over remoting, which is
// how a proxy in another process pops), and the pop/ack shapes the broker's pop service and the
// proxy's backends share. Header names are Java's; our extras: autoRenew, clientId,
// maxDeliveryAttempts on POP_MESSAGE and deadLetter on ACK_MESSAGE (forward to %DLQ%<group>, then
// ack, in one step).
import type { MessageRecord } from '../../common/message-codec.js';
import type { HeaderSchema } from './header-codec.js';

export const POP_MESSAGE_HEADER = {
  consumerGroup: { type: 'string', required: true },
  topic: { type: 'string', required: true },
  /** -1: any queue. */
  queueId: { type: 'int' },
  maxMsgNums: { type: 'int', required: true },
  invisibleTime: { type: 'long', required: true },
  pollTime: { type: 'long' },
  bornTime: { type: 'long' },
  initMode: { type: 'int' },
  expType: { type: 'string' },
  exp: { type: 'string' },
  order: { type: 'bool' },
  attemptId: { type: 'string' },
  autoRenew: { type: 'bool' },
  clientId: { type: 'string' },
  maxDeliveryAttempts: { type: 'int' },
} as const satisfies HeaderSchema;

/** popTime + invisibleTime is the first message's invisible-until. */
export const POP_MESSAGE_RESPONSE_HEADER = {
  popTime: { type: 'long', required: true },
  invisibleTime: { type: 'long', required: true },
  reviveQid: { type: 'int', required: true },
  restNum: { type: 'long', required: true },
} as const satisfies HeaderSchema;

/** extraInfo: the receipt handle. */
export const ACK_MESSAGE_HEADER = {
  consumerGroup: { type: 'string', required: true },
  topic: { type: 'string', required: true },
  queueId: { type: 'int' },
  extraInfo: { type: 'string', required: true },
  offset: { type: 'long' },
  deadLetter: { type: 'bool' },
} as const satisfies HeaderSchema;

export const CHANGE_INVISIBLE_TIME_HEADER = { ...ACK_MESSAGE_HEADER, invisibleTime: { type: 'long', required: true } } as const satisfies HeaderSchema;

/** extraInfo: the new receipt handle; popTime + invisibleTime: its invisible-until. */
export const CHANGE_INVISIBLE_TIME_RESPONSE_HEADER = {
  extraInfo: { type: 'string', required: true },
  popTime: { type: 'long', required: true },
  invisibleTime: { type: 'long', required: true },
  reviveQid: { type: 'int' },
} as const satisfies HeaderSchema;

export type AckResult = 'OK' | 'INVALID' | 'EXPIRED';

/** Why an ack or change failed (NO_MESSAGE answers carry it), so a proxy can tell expired from invalid. */
export const AckResultHeader = 'ackResult';

export const ACK_FAILURE_RESPONSE_HEADER = { [AckResultHeader]: { type: 'string' } } as const satisfies HeaderSchema;

/** The ackResult header's value as an AckResult: anything but EXPIRED counts as INVALID. */
export function ackFailureOf(ext: Record<string, string>): Exclude<AckResult, 'OK'> {
  return ext[AckResultHeader] === 'EXPIRED' ? 'EXPIRED' : 'INVALID';
}

/** A pop, without the subscription (the broker compiles that from the filter where the messages are). */
export interface PopRequestBase {
  group: string;
  topic: string;
  maxNums: number;
  /** ms; ignored when autoRenew (the broker keeps renewing while the client is alive). */
  invisibleTimeMs: number;
  autoRenew: boolean;
  clientId: string;
  fifo: boolean;
  /** ms to wait for messages when none is ready (long polling); 0 = answer at once. */
  pollTimeMs: number;
  /** Deliveries before a message goes to the DLQ. */
  maxDeliveryAttempts: number;
}

export interface PoppedMessage {
  record: MessageRecord;
  receiptHandle: string;
  deliveryAttempt: number;
  /** The topic the consumer subscribed to (retry copies report their origin topic). */
  topic: string;
  queueId: number;
  queueOffset: number;
  invisibleUntil: number;
}
