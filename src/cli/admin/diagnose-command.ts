// diagnoseMsg: one report on one message. Composed in the CLI from requests every broker answers
// (no new request code): the trace timeline (queryMsgTraceById's lookups), the groups that
// consume the topic (QUERY_TOPIC_CONSUME_BY_WHO plus groups the trace saw), each group's online
// clients and subscription (GET_CONSUMER_CONNECTION_LIST), its committed offset and lag
// (GET_CONSUME_STATS). The subscription is matched against the message with the broker's own
// filter code (tag or SQL92).
import { TopicValidator } from '../../common/message-const.js';
import { compileSql92, parseTagSubscription, tagMatches } from '../../common/filter/index.js';
import type { GroupFacts, TraceReport } from '../../observability/trace/trace-timeline.js';
import { RequestCode, ResponseCode } from '../../remoting/index.js';
import { CONSUMER_GROUP_HEADER, encodeHeader, GET_CONSUME_STATS_HEADER, TOPIC_HEADER } from '../../remoting/protocol/index.js';
import { AdminLookupError, jsonBody } from './admin-api.js';
import type { AddSubcommand } from './admin-command.js';
import type { AdminContext } from './admin-context.js';
import { formatTable } from './table.js';
import { checkMessageId, formatMillis, messageJson, registerTraceCommands, traceReportOf } from './trace-commands.js';

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

interface Connection {
  connectionSet?: { clientId: string; clientAddr: string }[];
  subscriptionTable?: Record<string, { subString?: string; expressionType?: string }>;
}

interface ConsumeStats {
  offsetTable?: { topic: string; brokerName: string; queueId: number; brokerOffset: number; consumerOffset: number }[];
}

/** Live state of a group on one broker: online clients and subscription, committed offsets and lag. */
async function liveState(ctx: AdminContext, addr: string, group: string, topic: string): Promise<{ conn?: Connection; stats?: ConsumeStats }> {
  const c = await ctx.api.invoke(addr, RequestCode.GET_CONSUMER_CONNECTION_LIST, encodeHeader(CONSUMER_GROUP_HEADER, { consumerGroup: group }));
  const conn = c.code === ResponseCode.SUCCESS ? jsonBody<Connection>(c, 'consumer connection list') : undefined;
  const s = await ctx.api.invoke(addr, RequestCode.GET_CONSUME_STATS, encodeHeader(GET_CONSUME_STATS_HEADER, { consumerGroup: group, topic }));
  const stats = s.code === ResponseCode.SUCCESS ? jsonBody<ConsumeStats>(s, 'consume stats') : undefined;
  return { conn, stats };
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

export function diagnoseGroup(r: TraceReport, group: string, f: GroupFacts | undefined, live: { conn?: Connection; stats?: ConsumeStats }): GroupDiagnosis {
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

export interface Diagnosis {
  message: Record<string, unknown>;
  groups: GroupDiagnosis[];
  verdict: string;
}

export async function diagnose(ctx: AdminContext, id: string, topic: string): Promise<Diagnosis> {
  const r = await traceReportOf(ctx, id, topic, TopicValidator.RMQ_SYS_TRACE_TOPIC);
  const route = await ctx.api.route(topic);
  const masters = route.brokerDatas.map((b) => ({ brokerName: b.brokerName, addr: b.brokerAddrs['0'] })).filter((b): b is { brokerName: string; addr: string } => !!b.addr);
  if (masters.length === 0) throw new AdminLookupError(`topic ${topic} has no master broker online`);
  const home = masters.find((b) => b.brokerName === r.message?.brokerName) ?? masters[0];
  const groups = new Set<string>(r.groups.keys());
  for (const b of masters) {
    const w = await ctx.api.invoke(b.addr, RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, encodeHeader(TOPIC_HEADER, { topic }));
    if (w.code === ResponseCode.SUCCESS) for (const g of jsonBody<{ groupList?: string[] }>(w, 'consumer groups').groupList ?? []) groups.add(g);
  }
  const out: GroupDiagnosis[] = [];
  for (const g of [...groups].sort()) out.push(diagnoseGroup(r, g, r.groups.get(g), await liveState(ctx, home.addr, g, topic)));

  const message: Record<string, unknown> = messageJson(r);
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
  const parts: string[] = [];
  const m = r.message;
  if (!m && r.recalled) parts.push(`recalled at ${formatMillis(r.recalled.timeStamp)}: it will never be delivered`);
  else if (!m && r.transaction?.state === 'ROLLBACK') parts.push(`its transaction was rolled back at ${formatMillis(r.transaction.timeStamp)}: it will never be delivered`);
  else if (m) parts.push(`stored on ${m.brokerName} queue ${m.queueId} offset ${m.queueOffset} at ${formatMillis(m.storeTimestamp)}`);
  else if (held) parts.push(`not delivered yet: waiting in ${held.topic}${message.pending && (message.pending as { dueAt: number | null }).dueAt ? ` until ${formatMillis((message.pending as { dueAt: number }).dueAt)}` : ''}`);
  else parts.push(`not stored in ${topic}`);
  if (out.length === 0) parts.push(`no subscription group consumes ${topic}`);
  for (const g of out) parts.push(g.reason);
  return { message, groups: out, verdict: parts.join('; ') };
}

async function diagnoseMsg(ctx: AdminContext, o: { topic: string; msgId?: string; json?: boolean }): Promise<void> {
  const id = checkMessageId(o.msgId);
  const d = await diagnose(ctx, id, o.topic);
  if (o.json) {
    ctx.out(`${JSON.stringify(d, null, 2)}\n`);
    return;
  }
  const msg = d.message;
  ctx.out(`Message ID: ${String(msg.uniqKey)}   Topic: ${String(msg.topic)}\n`);
  if (msg.brokerName !== undefined) {
    ctx.out(`Stored: ${String(msg.brokerName)} queue ${String(msg.queueId)} offset ${String(msg.queueOffset)} at ${formatMillis(Number(msg.storeTimestamp))}   Tags: ${String(msg.tags ?? '-')}   Keys: ${(msg.keys as string[]).join(' ') || '-'}\n`);
  }
  if (msg.transaction) ctx.out(`Transaction: ${String(msg.transaction)}\n`);
  const rows = d.groups.map((g) => [
    g.group,
    g.state,
    g.online ? String(g.clients.length) : '0',
    g.subscription ? g.subscription.expression : '?',
    g.deliveredAt ? `${formatMillis(g.deliveredAt)} ${g.deliveredTo ?? ''}`.trim() : '-',
    g.consumedAt ? formatMillis(g.consumedAt) : '-',
    String(g.retries),
    g.nextRetryAt && g.state === 'retrying' ? formatMillis(g.nextRetryAt) : '-',
    g.lag === null ? '-' : String(g.lag),
  ]);
  ctx.out(formatTable(['Group', 'State', 'Clients', 'Subscription', 'Delivered', 'Consumed', 'Retries', 'Next Retry', 'Lag'], rows));
  ctx.out(`Verdict: ${d.verdict}\n`);
}

/** queryMsgTraceById and diagnoseMsg (issue 13 part A). */
export function registerTraceAndDiagnoseCommands(sub: AddSubcommand): void {
  registerTraceCommands(sub);
  sub('diagnoseMsg', 'where one message is and, for every group of its topic, whether it was delivered, consumed, retried or dead-lettered', diagnoseMsg)
    .requiredOption('-t, --topic <topic>', "the message's topic")
    .requiredOption('-i, --msgId <id>', 'unique message id or offset message id')
    .option('--json', 'print JSON: { message, groups: [{ group, state, ... }], verdict }');
}
