// The dispatch request of a record read back from the commit log (recovery, a dispatch catching
// up after a failed write), as the put that stored it built it.
import { decodeMessage } from '../common/message-codec.js';
import { MessageConst } from '../common/message-const.js';
import { getPropertyFromString } from '../common/message-properties.js';
import { isDispatchedToConsumeQueue } from '../common/sys-flag.js';
import { tagsString2tagsCode } from '../common/tag-hash.js';
import type { DispatchRequest } from './store-types.js';

/** See MessageStoreOptions.recoverTagsCode. */
export type RecoverTagsCode = (topic: string, queueId: number, properties: string, storeTimestamp: number) => number | undefined;

export function dispatchRequestOf(buf: Buffer, pos: number, phy: number, recoverTagsCode: RecoverTagsCode | undefined): DispatchRequest {
  const m = decodeMessage(buf, pos, { checkCrc: false });
  const props = m.properties;
  return {
    topic: m.topic,
    queueId: m.queueId,
    queueOffset: m.queueOffset,
    commitLogOffset: phy,
    msgSize: m.totalSize,
    tagsCode: recoverTagsCode?.(m.topic, m.queueId, props, m.storeTimestamp) ?? tagsString2tagsCode(getPropertyFromString(props, MessageConst.PROPERTY_TAGS)),
    storeTimestamp: m.storeTimestamp,
    sysFlag: m.sysFlag,
    keys: getPropertyFromString(props, MessageConst.PROPERTY_KEYS),
    uniqKey: getPropertyFromString(props, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX),
    dispatchToQueue: isDispatchedToConsumeQueue(m.sysFlag),
  };
}
