// Dead letters sent back for consumption (issue 13): a record of %DLQ%<group> is copied to
// %RETRY%<group>, which every consumer of the group reads, with a fresh retry budget (4.x clients
// drop a message whose reconsume count is past their maximum before their handler sees it). The
// commit log is append-only, so "this dead letter was resent" is kept beside it: one JSON line per
// resend in config/dlqResendLog.jsonl, fsynced before the answer, read back by exportDLQ.
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeMessage } from '../../common/message-codec.js';
import { MessageConst } from '../../common/message-const.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { hostPortOf } from '../../common/message-host.js';
import { createMessageId } from '../../common/msg-id.js';
import { removePropertyFromString, setPropertyInString } from '../../common/property-edit.js';
import { BrokerError, ResponseCode } from '../../remoting/index.js';
import type { BrokerParts } from '../broker-parts.js';
import { isStored, restoreInput } from '../restore-message.js';
import { dlqTopic, PermName, retryTopic } from '../topic-config.js';

/** Properties a resent copy carries: which dead letter it came from, when, and its old count. */
export const DlqResendProperty = {
  FROM: 'DLQ_RESEND_FROM',
  TIME: 'DLQ_RESEND_TIME',
  RECONSUME_TIMES: 'DLQ_RESEND_RECONSUME_TIMES',
} as const;

/** One line of the resend log. */
export interface DlqResendRecord {
  group: string;
  /** offsetMsgId of the dead letter. */
  dlqOffsetMsgId: string;
  /** Its unique key (the id clients see). */
  msgId: string;
  resentAt: number;
  retryTopic: string;
  /** offsetMsgId of the copy in the retry topic. */
  retryOffsetMsgId: string;
}

export type DlqResendStatus = 'OK' | 'NOT_FOUND' | 'NOT_IN_DLQ' | 'FAILED';

export interface DlqResendResult {
  commitLogOffset: number;
  status: DlqResendStatus;
  msgId?: string;
  retryOffsetMsgId?: string;
  remark?: string;
}

const RW = PermName.PERM_READ | PermName.PERM_WRITE;
/** Properties that would route the copy elsewhere (delay, timer, transaction) or fake its queue. */
const ROUTING_PROPERTIES = [
  MessageConst.PROPERTY_DELAY_TIME_LEVEL,
  MessageConst.PROPERTY_TIMER_DELIVER_MS,
  MessageConst.PROPERTY_TIMER_DELAY_SEC,
  MessageConst.PROPERTY_TIMER_DELAY_MS,
  MessageConst.PROPERTY_STARTDE_LIVER_TIME,
  MessageConst.PROPERTY_TRANSACTION_PREPARED,
  MessageConst.PROPERTY_REAL_TOPIC,
  MessageConst.PROPERTY_REAL_QUEUE_ID,
  MessageConst.PROPERTY_POP_CK,
];

export class DlqResendService {
  private log: DlqResendRecord[] | undefined;
  private loading: Promise<DlqResendRecord[]> | undefined;
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly broker: Pick<BrokerParts, 'config' | 'store' | 'topicConfigManager' | 'subscriptionGroupManager' | 'brokerAddr'>) {}

  private get file(): string {
    return join(this.broker.config.storePathRootDir, 'config', 'dlqResendLog.jsonl');
  }

  /** Copies each dead letter at the given commit-log offsets to the group's retry topic. */
  async resend(group: string, offsets: readonly number[]): Promise<DlqResendResult[]> {
    const b = this.broker;
    const sg = b.subscriptionGroupManager.get(group);
    if (!sg) throw new BrokerError(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group not exist, ${group}`);
    const dlq = dlqTopic(group);
    const retry = retryTopic(group);
    if (!b.topicConfigManager.selectTopicConfig(retry)) {
      b.topicConfigManager.createTopicIfAbsent(retry, Math.max(1, sg.retryQueueNums), RW);
      // Persisted before the first copy is stored, as RetryService does: a crash must not leave
      // messages in a topic the restarted broker does not know.
      await b.topicConfigManager.flush();
    }
    const storeHost = hostPortOf(b.brokerAddr);
    const results: DlqResendResult[] = [];
    const records: DlqResendRecord[] = [];
    for (const offset of offsets) {
      const rec = offset >= 0 ? await b.store.lookMessageByOffset(offset) : null;
      if (!rec) {
        results.push({ commitLogOffset: offset, status: 'NOT_FOUND', remark: `no message at commit-log offset ${offset}` });
        continue;
      }
      const m = decodeMessage(rec, 0, { checkCrc: false });
      if (m.commitLogOffset !== offset) {
        results.push({ commitLogOffset: offset, status: 'NOT_FOUND', remark: `no message starts at commit-log offset ${offset}` });
        continue;
      }
      const dlqId = createMessageId(m.storeHost, m.commitLogOffset);
      if (m.topic !== dlq) {
        results.push({ commitLogOffset: offset, status: 'NOT_IN_DLQ', remark: `the message at ${dlqId} is in ${m.topic}, not in ${dlq}` });
        continue;
      }
      const msgId = getPropertyFromString(m.properties, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? dlqId;
      const now = Date.now();
      let props = m.properties;
      for (const p of ROUTING_PROPERTIES) props = removePropertyFromString(props, p);
      if (getPropertyFromString(props, MessageConst.PROPERTY_RETRY_TOPIC) === undefined) props = setPropertyInString(props, MessageConst.PROPERTY_RETRY_TOPIC, dlq);
      props = setPropertyInString(props, DlqResendProperty.FROM, dlqId);
      props = setPropertyInString(props, DlqResendProperty.TIME, String(now));
      props = setPropertyInString(props, DlqResendProperty.RECONSUME_TIMES, String(m.reconsumeTimes));
      const queueId = Math.floor(Math.random() * Math.max(1, sg.retryQueueNums));
      const put = await b.store.putMessage(restoreInput(m, { topic: retry, queueId, properties: props, storeHost, reconsumeTimes: 0 }));
      if (!isStored(put)) {
        results.push({ commitLogOffset: offset, status: 'FAILED', msgId, remark: `store refused the copy: ${String(put.status)} ${put.remark ?? ''}`.trim() });
        continue;
      }
      const retryOffsetMsgId = put.msgId;
      results.push({ commitLogOffset: offset, status: 'OK', msgId, retryOffsetMsgId });
      records.push({ group, dlqOffsetMsgId: dlqId, msgId, resentAt: now, retryTopic: retry, retryOffsetMsgId });
    }
    if (records.length > 0) await this.append(records);
    return results;
  }

  /** Every resend recorded for the group, oldest first. */
  async history(group: string): Promise<DlqResendRecord[]> {
    return (await this.load()).filter((r) => r.group === group);
  }

  private load(): Promise<DlqResendRecord[]> {
    if (this.log) return Promise.resolve(this.log);
    return (this.loading ??= readFile(this.file, 'utf8').then(
      (text) => (this.log = parseLog(text)),
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return (this.log = []);
        this.loading = undefined;
        throw new BrokerError(ResponseCode.SYSTEM_ERROR, `cannot read the DLQ resend log: ${err.message}`);
      },
    ));
  }

  /** Appends and fsyncs, one append at a time (lines never interleave). */
  private async append(records: DlqResendRecord[]): Promise<void> {
    const log = await this.load();
    const text = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const write = this.writes.then(async () => {
      const fh = await open(this.file, 'a');
      try {
        await fh.appendFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
    this.writes = write.catch(() => undefined);
    try {
      await write;
    } catch (err) {
      throw new BrokerError(ResponseCode.SYSTEM_ERROR, `the messages were resent but the DLQ resend log could not be written: ${(err as Error).message}`);
    }
    log.push(...records);
  }
}

/** Lines that do not parse (a torn last line after a crash) are skipped. */
function parseLog(text: string): DlqResendRecord[] {
  const out: DlqResendRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as DlqResendRecord;
      if (typeof r.group === 'string' && typeof r.dlqOffsetMsgId === 'string') out.push(r);
    } catch {
      // torn line
    }
  }
  return out;
}
