// Stores a message again that is already in the commit log: delay and timer delivery, retries,
// dead-lettering, transaction commit and check-back all copy a record with a new topic, queue or
// properties. One place builds the copy and one checks the put.
import type { MessageRecord } from '../common/message-codec.js';
import { MessageConst } from '../common/message-const.js';
import { getPropertyFromString } from '../common/message-properties.js';
import { tagsString2tagsCode } from '../common/tag-hash.js';
import { BrokerError, ResponseCode } from '../remoting/index.js';
import { PutMessageStatus, type MessageInput, type PutMessageResult } from '../store/index.js';

export interface RestoreOverrides {
  topic: string;
  queueId: number;
  properties: string;
  storeHost?: MessageInput['storeHost'];
  reconsumeTimes?: number;
  sysFlag?: number;
  preparedTransactionOffset?: number;
  /** Recompute the consume-queue tag code from the (new) TAGS property. */
  retag?: boolean;
}

/** The input that stores record m again under the given topic, queue and properties. */
export function restoreInput(m: MessageRecord, o: RestoreOverrides): MessageInput {
  return {
    topic: o.topic,
    queueId: o.queueId,
    flag: m.flag,
    body: m.body,
    properties: o.properties,
    sysFlag: o.sysFlag ?? m.sysFlag,
    bornTimestamp: m.bornTimestamp,
    bornHost: m.bornHost,
    storeHost: o.storeHost ?? m.storeHost,
    reconsumeTimes: o.reconsumeTimes ?? m.reconsumeTimes,
    preparedTransactionOffset: o.preparedTransactionOffset ?? m.preparedTransactionOffset,
    tagsCode: o.retag ? tagsString2tagsCode(getPropertyFromString(o.properties, MessageConst.PROPERTY_TAGS)) : undefined,
  };
}

/** True when the message is stored (a flush timeout still stores it). */
export function isStored(r: PutMessageResult): boolean {
  return r.status === PutMessageStatus.PUT_OK || r.status === PutMessageStatus.FLUSH_DISK_TIMEOUT;
}

/** Throws with `what` and the store's status when the put did not store the message. */
export function assertStored(r: PutMessageResult, what: string): PutMessageResult {
  if (!isStored(r)) throw new BrokerError(ResponseCode.SYSTEM_ERROR, `${what} failed: ${String(r.status)} ${r.remark ?? ''}`.trim());
  return r;
}
