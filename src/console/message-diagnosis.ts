// The diagnosis of a message's detail page: the same verdict as `apogee admin diagnoseMsg`
// (src/observability/trace/diagnosis.ts), its trace report and live lookups asked over the
// console's admin client, so a standalone's console and `apogee console -n` answer alike.
import { decodeMessages } from '../common/message-codec.js';
import { TopicValidator } from '../common/message-const.js';
import { decodeMessageId } from '../common/msg-id.js';
import type { AdminClient } from '../client/index.js';
import { diagnoseReport, type Diagnosis, type DiagnosisLookup, type GroupConnection, type GroupConsumeStats } from '../observability/trace/diagnosis.js';
import { toCopy } from '../observability/trace/report-format.js';
import { gatherTrace, TraceNotFoundError, type StoredCopy, type TraceMessageBody, type TraceSource } from '../observability/trace/trace-timeline.js';
import { bodyOf, createRequest, RequestCode, ResponseCode, type ExtInput, type RemotingCommand } from '../remoting/index.js';
import { CONSUMER_GROUP_HEADER, encodeHeader, GET_CONSUME_STATS_HEADER, QUERY_MESSAGE_HEADER, TOPIC_HEADER, VIEW_MESSAGE_BY_ID_HEADER } from '../remoting/protocol/index.js';
import type { ClusterView } from './cluster-view.js';

/** Per lookup, as in apogee admin's trace lookups. */
const QUERY_MAX = 64;

export type ConsoleDiagnosis = ({ available: true } & Diagnosis) | { available: false; reason: string };

type Masters = () => Promise<{ brokerName: string; addr: string }[]>;

/** Raw answers: the callers decide what a code other than SUCCESS means. */
function invoke(admin: AdminClient, addr: string, code: number, ext?: ExtInput): Promise<RemotingCommand> {
  return admin.api.remoting.invoke(addr, createRequest(code, ext), admin.api.timeoutMs);
}

function json<T>(r: RemotingCommand): T | undefined {
  if (r.code !== ResponseCode.SUCCESS) return undefined;
  return JSON.parse(bodyOf(r).toString('utf8')) as T;
}

/** TraceSource over the console's admin client: every master of the cluster. */
class ConsoleTraceSource implements TraceSource {
  constructor(
    private readonly admin: AdminClient,
    private readonly masters: Masters,
  ) {}

  now(): number {
    return Date.now();
  }

  private async query(topic: string, key: string, begin: number, end: number, uniq: boolean): Promise<{ brokerName: string; rec: ReturnType<typeof decodeMessages>[number] }[]> {
    const out: { brokerName: string; rec: ReturnType<typeof decodeMessages>[number] }[] = [];
    for (const b of await this.masters()) {
      const ext = encodeHeader(QUERY_MESSAGE_HEADER, { topic, key, maxNum: QUERY_MAX, beginTimestamp: Math.max(0, Math.floor(begin)), endTimestamp: Math.floor(end), _UNIQUE_KEY_QUERY: uniq });
      const r = await invoke(this.admin, b.addr, RequestCode.QUERY_MESSAGE, ext);
      // A broker without the topic or without a hit has nothing to add.
      if (r.code !== ResponseCode.SUCCESS) continue;
      for (const rec of decodeMessages(bodyOf(r), { checkCrc: false, copyBody: true })) out.push({ brokerName: b.brokerName, rec });
    }
    return out;
  }

  async traceByKey(key: string, begin: number, end: number): Promise<TraceMessageBody[]> {
    const topic = TopicValidator.RMQ_SYS_TRACE_TOPIC;
    const found = await this.query(topic, key, begin, end, false);
    return found.filter((f) => f.rec.topic === topic).map((f) => ({ body: f.rec.body.toString('utf8'), bornHost: `${f.rec.bornHost.address}:${f.rec.bornHost.port}` }));
  }

  async copies(topic: string, uniqKey: string): Promise<StoredCopy[]> {
    const found = await this.query(topic, uniqKey, 0, Date.now() + 60_000, true);
    return found.map((f) => toCopy(f.rec, f.brokerName)).filter((c) => c.topic === topic && c.msgId === uniqKey);
  }

  async byOffsetId(offsetMsgId: string): Promise<StoredCopy | undefined> {
    const id = decodeMessageId(offsetMsgId);
    // Only our own brokers are asked (an id names an address, and a unique key looks alike).
    for (const b of await this.masters()) {
      const r = await invoke(this.admin, b.addr, RequestCode.VIEW_MESSAGE_BY_ID, encodeHeader(VIEW_MESSAGE_BY_ID_HEADER, { offset: id.offset }));
      if (r.code !== ResponseCode.SUCCESS) continue;
      const recs = decodeMessages(bodyOf(r), { checkCrc: false, copyBody: true });
      const c = recs.length > 0 ? toCopy(recs[0], b.brokerName) : undefined;
      if (c && c.offsetMsgId.toUpperCase() === offsetMsgId.toUpperCase()) return c;
    }
    return undefined;
  }
}

/** 5.x consumers are not in the broker's connection list; the console adds those it knows of (GET_GRPC_CLIENT_LIST). */
function consoleLookup(cluster: ClusterView): DiagnosisLookup {
  const admin = cluster.admin;
  return {
    async masters(topic) {
      const route = await admin.topicRoute(topic);
      return route.brokerDatas.map((b) => ({ brokerName: b.brokerName, addr: b.brokerAddrs['0'] })).filter((b): b is { brokerName: string; addr: string } => !!b.addr);
    },
    async groupsOf(addr, topic) {
      return json<{ groupList?: string[] }>(await invoke(admin, addr, RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, encodeHeader(TOPIC_HEADER, { topic })))?.groupList ?? [];
    },
    async connection(addr, group) {
      const conn = json<GroupConnection>(await invoke(admin, addr, RequestCode.GET_CONSUMER_CONNECTION_LIST, encodeHeader(CONSUMER_GROUP_HEADER, { consumerGroup: group })));
      const grpc = (await cluster.grpcClients([addr])).filter((c) => c.group === group && c.clientType !== 'producer');
      if (grpc.length === 0) return conn;
      return { ...conn, connectionSet: [...(conn?.connectionSet ?? []), ...grpc.map((c) => ({ clientId: c.clientId, clientAddr: c.hostname }))] };
    },
    async consumeStats(addr, group, topic) {
      return json<GroupConsumeStats>(await invoke(admin, addr, RequestCode.GET_CONSUME_STATS, encodeHeader(GET_CONSUME_STATS_HEADER, { consumerGroup: group, topic })));
    },
  };
}

/**
 * The diagnosis of a stored message (its unique key and topic). Not available, with the reason,
 * when its trace cannot be gathered or its topic has no master; a broker that fails otherwise
 * makes the request fail as any other console request does.
 */
export async function diagnoseMessage(cluster: ClusterView, uniqKey: string, topic: string): Promise<ConsoleDiagnosis> {
  try {
    const report = await gatherTrace(new ConsoleTraceSource(cluster.admin, () => cluster.masters()), uniqKey, topic);
    const lookup = consoleLookup(cluster);
    if ((await lookup.masters(topic)).length === 0) return { available: false, reason: `topic ${topic} has no master broker online` };
    return { available: true, ...(await diagnoseReport(report, topic, lookup)) };
  } catch (err) {
    if (err instanceof TraceNotFoundError) return { available: false, reason: err.message };
    throw err;
  }
}
