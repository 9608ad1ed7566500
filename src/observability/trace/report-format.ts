// Pieces of a trace report that every reader of one prints the same way (apogee admin and the web
// console): a stored record as a StoredCopy, times in local time, the message part of a report.
import type { MessageRecord } from '../../common/message-codec.js';
import { string2messageProperties } from '../../common/message-properties.js';
import { createMessageId } from '../../common/msg-id.js';
import type { StoredCopy, TraceReport } from './trace-timeline.js';

export function toCopy(rec: MessageRecord, brokerName: string): StoredCopy {
  const properties = string2messageProperties(rec.properties) as Record<string, string>;
  return {
    brokerName,
    topic: rec.topic,
    queueId: rec.queueId,
    queueOffset: rec.queueOffset,
    commitLogOffset: rec.commitLogOffset,
    storeTimestamp: rec.storeTimestamp,
    bornTimestamp: rec.bornTimestamp,
    bornHost: `${rec.bornHost.address}:${rec.bornHost.port}`,
    storeHost: `${rec.storeHost.address}:${rec.storeHost.port}`,
    msgId: properties.UNIQ_KEY ?? '',
    offsetMsgId: createMessageId(rec.storeHost, rec.commitLogOffset),
    tags: properties.TAGS,
    keys: (properties.KEYS ?? '').split(' ').filter(Boolean),
    properties,
    reconsumeTimes: rec.reconsumeTimes,
    bodyLength: rec.body.length,
  };
}

/** "2026-12-03 12:00:00.123" in local time. */
export function formatMillis(ms: number): string {
  if (!ms || ms <= 0) return '-';
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export function messageJson(r: TraceReport): Record<string, unknown> {
  const m = r.message;
  return {
    id: r.id,
    uniqKey: r.uniqKey,
    topic: r.topic,
    ...(m
      ? {
          brokerName: m.brokerName,
          queueId: m.queueId,
          queueOffset: m.queueOffset,
          commitLogOffset: m.commitLogOffset,
          offsetMsgId: m.offsetMsgId,
          storeTimestamp: m.storeTimestamp,
          bornTimestamp: m.bornTimestamp,
          bornHost: m.bornHost,
          storeHost: m.storeHost,
          tags: m.tags ?? null,
          keys: m.keys,
          bodyLength: m.bodyLength,
        }
      : { stored: false }),
  };
}
