// One message's diagnosis: for every group of its topic, whether the message was delivered,
// consumed, retried, dead-lettered, filtered out or is still waiting, and one verdict for all.
// The facts come from its trace report (gatherTrace) and from the live state of each group, asked
// through a DiagnosisLookup, so `apogee admin diagnoseMsg` (over its AdminApi) and the web console
// (over its admin client) give the same answer. The subscription is matched against the message
// with the broker's own filter code (tag or SQL92).
import { compileSql92, parseTagSubscription, tagMatches } from '../../common/filter/index.js';
import { formatMillis, messageJson } from './report-format.js';
import type { GroupFacts, TraceReport } from './trace-timeline.js';

export type GroupState = 'consumed' | 'pending' | 'inflight' | 'retrying' | 'dlq' | 'filtered' | 'noConsumer';

export interface GroupDiagnosis {
  group: string;
  state: GroupState;
  online: boolean;
  clients: { clientId: string; clientAddr: string }[];
  subscription: { expression: string; type: string } | null;
  /** null when the subscription is not known (no online consumer). */
  matches: boolean | null;
  deliveredAt: number | null;
  deliveredTo: string | null;
  deliveries: number;
  consumedAt: number | null;
  consumedBy: 'offset' | 'ack' | null;
  committedOffset: number | null;
  retries: number;
  nextRetryAt: number | null;
  dlqTopic: string | null;
  lag: number | null;
  reason: string;
}

/** GET_CONSUMER_CONNECTION_LIST's body, the part read here. */
export interface GroupConnection {
  connectionSet?: { clientId: string; clientAddr: string }[];
  subscriptionTable?: Record<string, { subString?: string; expressionType?: string }>;
}

/** GET_CONSUME_STATS's body, the part read here. */
export interface GroupConsumeStats {
  offsetTable?: { topic: string; brokerName: string; queueId: number; brokerOffset: number; consumerOffset: number }[];
}

/** The live state a diagnosis asks for, one implementation per way of reaching the brokers. */
export interface DiagnosisLookup {
  /** Masters serving the topic; never empty (a lookup throws its own "no master" error instead). */
  masters(topic: string): Promise<{ brokerName: string; addr: string }[]>;
  /** Groups a broker knows to consume the topic (QUERY_TOPIC_CONSUME_BY_WHO); [] when it cannot tell. */
  groupsOf(addr: string, topic: string): Promise<string[]>;
  /** Online clients and subscriptions of a group at a broker; undefined when none is online. */
  connection(addr: string, group: string): Promise<GroupConnection | undefined>;
  /** Committed offsets of a group on the topic at a broker; undefined when the broker has none. */
  consumeStats(addr: string, group: string, topic: string): Promise<GroupConsumeStats | undefined>;
}

export interface Diagnosis {
  message: Record<string, unknown>;
  groups: GroupDiagnosis[];
  verdict: string;
}

function subscriptionMatches(expression: string, type: string, props: Record<string, string>): boolean {
  if (type.toUpperCase() === 'SQL92') {
    try {
      return compileSql92(expression).matches((n) => props[n]);
    } catch {
      return false;
    }
  }
  return tagMatches(parseTagSubscription(expression), props.TAGS);
}

export function diagnoseGroup(r: TraceReport, group: string, f: GroupFacts | undefined, live: { conn?: GroupConnection; stats?: GroupConsumeStats }): GroupDiagnosis {
  const m = r.message;
  const clients = (live.conn?.connectionSet ?? []).map((c) => ({ clientId: c.clientId, clientAddr: c.clientAddr }));
  const online = clients.length > 0;
  const sub = live.conn?.subscriptionTable?.[r.topic];
  const subscription = sub ? { expression: sub.subString ?? '*', type: sub.expressionType ?? 'TAG' } : null;
  const matches = subscription && m ? subscriptionMatches(subscription.expression, subscription.type, m.properties) : null;
  let lag: number | null = null;
  let committedOffset: number | null = null;
  for (const e of live.stats?.offsetTable ?? []) {
    if (e.topic !== r.topic) continue;
    lag = (lag ?? 0) + Math.max(0, e.brokerOffset - e.consumerOffset);
    if (m && e.brokerName === m.brokerName && e.queueId === m.queueId) committedOffset = e.consumerOffset;
  }
  const latest = f?.retryCopies.length ? f.retryCopies[f.retryCopies.length - 1] : m;
  const deliveredLatest = f?.delivered.filter((d) => latest && d.topic === latest.topic && d.queueOffset === latest.queueOffset) ?? [];
  const consumedLatest = f?.consumed.find((c) => latest && c.topic === latest.topic && c.queueOffset === latest.queueOffset);
  const lastDelivery = f?.delivered[f.delivered.length - 1];
  const lastRetry = f?.retries[f.retries.length - 1];
  const d: GroupDiagnosis = {
    group,
    state: 'pending',
    online,
    clients,
    subscription,
    matches,
    deliveredAt: lastDelivery?.time ?? null,
    deliveredTo: lastDelivery?.client ?? null,
    deliveries: f?.delivered.length ?? 0,
    consumedAt: consumedLatest?.time ?? null,
    consumedBy: (consumedLatest?.kind as 'offset' | 'ack' | undefined) ?? null,
    committedOffset,
    retries: f?.retries.length ?? 0,
    nextRetryAt: lastRetry?.nextDeliverTime || null,
    dlqTopic: f?.deadLettered?.dlqTopic ?? (f?.dlqCopy ? f.dlqCopy.topic : null),
    lag,
    reason: '',
  };
  const lagText = lag === null ? '' : `, lag ${lag.toLocaleString('en-US')}`;
  const passedByOffset = m !== undefined && committedOffset !== null && committedOffset > m.queueOffset && (f?.retries.length ?? 0) === 0;
  if (!m) {
    d.state = 'pending';
    d.reason = `${group} cannot receive it before it is put into ${r.topic}`;
  } else if (d.dlqTopic) {
    d.state = 'dlq';
    d.reason = `${group} dead-lettered it into ${d.dlqTopic} after ${f?.deadLettered?.reconsumeTimes ?? d.retries + 1} deliveries`;
  } else if (matches === false && subscription) {
    d.state = 'filtered';
    d.reason = `${group}'s subscription \`${subscription.expression}\`${subscription.type.toUpperCase() === 'SQL92' ? ' (SQL92)' : ''} does not match ${m.tags ? `tag \`${m.tags}\`` : 'the message (no tag)'}`;
  } else if ((consumedLatest || passedByOffset) && d.deliveries === 0 && matches === null) {
    d.state = 'filtered';
    d.reason = `${group}'s offset passed it without a delivery: filtered out by its subscription`;
  } else if (consumedLatest || (passedByOffset && d.retries === 0)) {
    d.state = 'consumed';
    const when = consumedLatest ? ` at ${formatMillis(consumedLatest.time)}` : '';
    const by = consumedLatest?.kind === 'ack' ? 'acked' : 'offset committed';
    d.reason = `consumed by ${group}${when}${d.deliveredTo ? ` (client ${d.deliveredTo})` : ''}, ${consumedLatest ? by : `committed offset ${committedOffset} is past it`}`;
  } else if (d.retries > 0) {
    d.state = 'retrying';
    const due = d.nextRetryAt ? `; next delivery due at ${formatMillis(d.nextRetryAt)}` : '';
    d.reason = `${group} failed it ${d.retries} time(s)${deliveredLatest.length > 0 ? ' (retry delivered, not yet confirmed)' : ''}${due}`;
  } else if (deliveredLatest.length > 0) {
    d.state = 'inflight';
    d.reason = `${group} received it at ${formatMillis(deliveredLatest[deliveredLatest.length - 1].time)} (client ${deliveredLatest[deliveredLatest.length - 1].client}) and has not confirmed it yet`;
  } else if (!online) {
    d.state = 'noConsumer';
    d.reason = `${group} has no online consumer${lagText}`;
  } else {
    d.state = 'pending';
    d.reason = `${group} is online but has not received it yet${lagText}`;
  }
  return d;
}

/**
 * The diagnosis of the message a report was gathered for: the groups the trace saw plus those the
 * topic's masters name, each judged from its live state at the broker that stored the message.
 */
export async function diagnoseReport(r: TraceReport, topic: string, lookup: DiagnosisLookup): Promise<Diagnosis> {
  const masters = await lookup.masters(topic);
  if (masters.length === 0) throw new Error(`topic ${topic} has no master broker online`);
  const home = masters.find((b) => b.brokerName === r.message?.brokerName) ?? masters[0];
  const groups = new Set<string>(r.groups.keys());
  for (const b of masters) for (const g of await lookup.groupsOf(b.addr, topic)) groups.add(g);
  const out: GroupDiagnosis[] = [];
  for (const g of [...groups].sort()) {
    const live = { conn: await lookup.connection(home.addr, g), stats: await lookup.consumeStats(home.addr, g, topic) };
    out.push(diagnoseGroup(r, g, r.groups.get(g), live));
  }
  const message = messageJson(r);
  const held = r.held[0];
  if (held) {
    const due = Number(held.properties.TIMER_OUT_MS ?? held.properties.TIMER_DELIVER_MS ?? 0);
    message.pending = { in: held.topic, since: held.storeTimestamp, dueAt: due > 0 ? due : null, delayLevel: held.properties.DELAY ? Number(held.properties.DELAY) : null };
  }
  if (r.transaction) message.transaction = r.transaction.state === 'COMMIT' ? 'committed' : 'rolled back';
  else if (r.message?.properties.TRAN_MSG === 'true' || (r.stored && r.stored.storedTopic === 'RMQ_SYS_TRANS_HALF_TOPIC')) {
    message.transaction = r.message ? 'committed' : 'prepared: not committed or rolled back yet';
  }
  if (r.recalled) message.recalledAt = r.recalled.timeStamp;
  return { message, groups: out, verdict: verdictOf(r, topic, message, out) };
}

function verdictOf(r: TraceReport, topic: string, message: Record<string, unknown>, groups: GroupDiagnosis[]): string {
  const parts: string[] = [];
  const m = r.message;
  const held = r.held[0];
  const dueAt = (message.pending as { dueAt: number | null } | undefined)?.dueAt;
  if (!m && r.recalled) parts.push(`recalled at ${formatMillis(r.recalled.timeStamp)}: it will never be delivered`);
  else if (!m && r.transaction?.state === 'ROLLBACK') parts.push(`its transaction was rolled back at ${formatMillis(r.transaction.timeStamp)}: it will never be delivered`);
  else if (m) parts.push(`stored on ${m.brokerName} queue ${m.queueId} offset ${m.queueOffset} at ${formatMillis(m.storeTimestamp)}`);
  else if (held) parts.push(`not delivered yet: waiting in ${held.topic}${dueAt ? ` until ${formatMillis(dueAt)}` : ''}`);
  else parts.push(`not stored in ${topic}`);
  if (groups.length === 0) parts.push(`no subscription group consumes ${topic}`);
  for (const g of groups) parts.push(g.reason);
  return parts.join('; ');
}
