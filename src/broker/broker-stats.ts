// Counters the admin commands and metrics read: messages and bytes put and got, per topic and group.
import { PutMessageStatus, type PutMessageResult } from '../store/index.js';

export interface TopicCounters {
  putMsgs: number;
  putBytes: number;
}

export class BrokerStats {
  readonly startTime = Date.now();
  putMsgsTotal = 0;
  putBytesTotal = 0;
  getMsgsTotal = 0;
  getBytesTotal = 0;
  putFailures = 0;
  readonly topics = new Map<string, TopicCounters>();
  readonly groupGets = new Map<string, number>();

  recordPut(topic: string, r: PutMessageResult): void {
    if (r.status !== PutMessageStatus.PUT_OK && r.status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) {
      this.putFailures++;
      return;
    }
    this.putMsgsTotal += r.msgNum;
    this.putBytesTotal += r.wroteBytes;
    let t = this.topics.get(topic);
    if (!t) {
      t = { putMsgs: 0, putBytes: 0 };
      this.topics.set(topic, t);
    }
    t.putMsgs += r.msgNum;
    t.putBytes += r.wroteBytes;
  }

  recordPull(topic: string, group: string, msgs: number, bytes: number): void {
    if (msgs === 0) return;
    this.getMsgsTotal += msgs;
    this.getBytesTotal += bytes;
    const key = topic + '@' + group;
    this.groupGets.set(key, (this.groupGets.get(key) ?? 0) + msgs);
  }
}
