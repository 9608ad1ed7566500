// queryMsgTraceById: one message's timeline from the trace topic (client records of 4.x clients
// with message trace on, and the broker's own records) merged with its stored copies, sorted by
// time with the time between steps. The lookups are QUERY_MESSAGE (by key and by unique key) and
// VIEW_MESSAGE_BY_ID, sent to every master the name servers list, as mqadmin does for the trace
// topic.
import { TopicValidator } from '../../common/message-const.js';
import { decodeMessages, type MessageRecord } from '../../common/message-codec.js';
import { decodeMessageId } from '../../common/msg-id.js';
import { formatMillis, messageJson, toCopy } from '../../observability/trace/report-format.js';
import { gatherTrace, TraceNotFoundError, type StoredCopy, type TraceMessageBody, type TraceReport, type TraceSource } from '../../observability/trace/trace-timeline.js';
import { bodyOf, RequestCode, ResponseCode } from '../../remoting/index.js';
import { encodeHeader, QUERY_MESSAGE_HEADER, VIEW_MESSAGE_BY_ID_HEADER } from '../../remoting/protocol/index.js';
import { AdminLookupError, AdminRequestError, jsonBody, type AdminApi } from './admin-api.js';
import type { AddSubcommand } from './admin-command.js';
import { AdminUsageError, type AdminContext } from './admin-context.js';
import { formatTable } from './table.js';

export { formatMillis, messageJson, toCopy };

/** Unique keys and offset ids are hex; clients may set their own unique keys, so a little more is allowed. */
const ID_PATTERN = /^[0-9A-Za-z_.:-]{1,128}$/;
const QUERY_MAX = 64;
const MAX_TOPIC_SEARCH = 500;
const SKIP_TOPIC = /^(%RETRY%|%DLQ%|rmq_sys_|RMQ_SYS_|SCHEDULE_TOPIC_XXXX$|TBW102$|SELF_TEST_TOPIC$|OFFSET_MOVED_EVENT$|TRANS_CHECK_MAX_TIME_TOPIC$)/;

export function checkMessageId(raw: string | undefined): string {
  const id = (raw ?? '').trim();
  if (!ID_PATTERN.test(id)) {
    throw new AdminUsageError(`-i: malformed message id ${JSON.stringify(raw ?? '')}: expected a unique message id or an offset message id (hex, as a send result prints it)`);
  }
  return id;
}

/** TraceSource over remoting: every master of every cluster the name servers list. */
export class RemoteTraceSource implements TraceSource {
  private masters: { brokerName: string; addr: string }[] | undefined;

  constructor(
    private readonly api: AdminApi,
    private readonly traceTopic: string,
  ) {}

  now(): number {
    return Date.now();
  }

  async brokers(): Promise<{ brokerName: string; addr: string }[]> {
    if (this.masters) return this.masters;
    const info = await this.api.clusterInfo();
    const out: { brokerName: string; addr: string }[] = [];
    for (const name of Object.keys(info.brokerAddrTable).sort()) {
      const addr = info.brokerAddrTable[name]?.brokerAddrs['0'];
      if (addr) out.push({ brokerName: name, addr });
    }
    if (out.length === 0) throw new AdminLookupError('the name server lists no master broker');
    this.masters = out;
    return out;
  }

  async query(topic: string, key: string, begin: number, end: number, uniq: boolean): Promise<{ brokerName: string; rec: MessageRecord }[]> {
    const out: { brokerName: string; rec: MessageRecord }[] = [];
    for (const b of await this.brokers()) {
      const ext = encodeHeader(QUERY_MESSAGE_HEADER, { topic, key, maxNum: QUERY_MAX, beginTimestamp: Math.max(0, Math.floor(begin)), endTimestamp: Math.floor(end), _UNIQUE_KEY_QUERY: uniq });
      const r = await this.api.invoke(b.addr, RequestCode.QUERY_MESSAGE, ext);
      if (r.code === ResponseCode.QUERY_NOT_FOUND) continue;
      if (r.code !== ResponseCode.SUCCESS) throw new AdminRequestError(r.code, r.remark ?? '', b.addr);
      for (const rec of decodeMessages(bodyOf(r), { checkCrc: false, copyBody: true })) out.push({ brokerName: b.brokerName, rec });
    }
    return out;
  }

  async traceByKey(key: string, begin: number, end: number): Promise<TraceMessageBody[]> {
    const found = await this.query(this.traceTopic, key, begin, end, false);
    return found.filter((f) => f.rec.topic === this.traceTopic).map((f) => ({ body: f.rec.body.toString('utf8'), bornHost: `${f.rec.bornHost.address}:${f.rec.bornHost.port}` }));
  }

  async copies(topic: string, uniqKey: string): Promise<StoredCopy[]> {
    const found = await this.query(topic, uniqKey, 0, Date.now() + 60_000, true);
    return found.map((f) => toCopy(f.rec, f.brokerName)).filter((c) => c.topic === topic && c.msgId === uniqKey);
  }

  /** Searches the name servers' topics (system, retry and dead-letter ones left out), at most MAX_TOPIC_SEARCH. */
  async findTopic(uniqKey: string): Promise<string | undefined> {
    const r = jsonBody<{ topicList?: string[] }>(await this.api.namesrvOk(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER), 'topic list');
    const topics = (r.topicList ?? []).filter((t) => !SKIP_TOPIC.test(t)).sort();
    if (topics.length > MAX_TOPIC_SEARCH) throw new AdminLookupError(`no trace record names message ${uniqKey} and there are ${topics.length} topics to search: give its topic with -t`);
    for (const t of topics) if ((await this.copies(t, uniqKey)).length > 0) return t;
    return undefined;
  }

  async byOffsetId(offsetMsgId: string): Promise<StoredCopy | undefined> {
    const id = decodeMessageId(offsetMsgId);
    const addr = id.address.includes(':') ? `[${id.address}]:${id.port}` : `${id.address}:${id.port}`;
    // The id names the broker's address when it stored the message; a restarted broker may listen
    // elsewhere, so every master is asked (the named one first) and the answer must carry this id.
    // Nothing is sent to an address that is not one of our brokers (a unique key looks alike).
    const brokers = await this.brokers();
    const order = [...brokers.filter((b) => b.addr === addr), ...brokers.filter((b) => b.addr !== addr)];
    for (const b of order) {
      const r = await this.api.invoke(b.addr, RequestCode.VIEW_MESSAGE_BY_ID, encodeHeader(VIEW_MESSAGE_BY_ID_HEADER, { offset: id.offset }));
      if (r.code !== ResponseCode.SUCCESS) continue;
      const recs = decodeMessages(bodyOf(r), { checkCrc: false, copyBody: true });
      const c = recs.length > 0 ? toCopy(recs[0], b.brokerName) : undefined;
      if (c && c.offsetMsgId.toUpperCase() === offsetMsgId.toUpperCase()) return c;
    }
    return undefined;
  }
}

/** Gathers the report; "nothing found" becomes a lookup error (exit 1, one line). */
export async function traceReportOf(ctx: AdminContext, id: string, topic: string | undefined, traceTopic: string): Promise<TraceReport> {
  if (topic !== undefined) await ctx.api.route(topic);
  try {
    return await gatherTrace(new RemoteTraceSource(ctx.api, traceTopic), id, topic);
  } catch (err) {
    if (err instanceof TraceNotFoundError) throw new AdminLookupError(err.message);
    throw err;
  }
}

export function formatSpan(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

async function queryMsgTraceById(ctx: AdminContext, o: { msgId?: string; topic?: string; traceTopic?: string; json?: boolean }): Promise<void> {
  const id = checkMessageId(o.msgId);
  const r = await traceReportOf(ctx, id, o.topic, o.traceTopic ?? TopicValidator.RMQ_SYS_TRACE_TOPIC);
  if (o.json) {
    ctx.out(`${JSON.stringify({ message: messageJson(r), steps: r.steps, skippedRecords: r.skipped }, null, 2)}\n`);
    return;
  }
  const m = r.message;
  ctx.out(`Message ID: ${r.uniqKey}   Topic: ${r.topic}\n`);
  if (m) ctx.out(`Stored: ${m.brokerName} queue ${m.queueId} offset ${m.queueOffset} at ${formatMillis(m.storeTimestamp)}   Tags: ${m.tags ?? '-'}   Keys: ${m.keys.join(' ') || '-'}\n`);
  else ctx.out('Stored: not in its topic (yet)\n');
  const rows = r.steps.map((s) => [formatMillis(s.time), s.step, s.source, s.group || '-', s.client || '-', s.sincePrevMs === 0 ? '-' : `+${formatSpan(s.sincePrevMs)}`, s.detail]);
  ctx.out(formatTable(['Time', 'Step', 'Source', 'Group', 'Client', 'Since Prev', 'Detail'], rows));
  if (r.steps.length > 1) ctx.out(`Total: ${formatSpan(r.steps[r.steps.length - 1].time - r.steps[0].time)} from first to last step\n`);
  if (r.skipped > 0) ctx.out(`(${r.skipped} malformed trace record(s) passed over)\n`);
}

export function registerTraceCommands(sub: AddSubcommand): void {
  sub('queryMsgTraceById', "one message's trace: client and broker records merged in time order", queryMsgTraceById)
    .requiredOption('-i, --msgId <id>', 'unique message id or offset message id')
    .option('-t, --topic <topic>', "the message's topic (narrows the lookup)")
    .option('--traceTopic <topic>', 'trace topic (default RMQ_SYS_TRACE_TOPIC)')
    .option('--json', 'print JSON');
}
