// diagnoseMsg: one report on one message. The verdict is composed in
// src/observability/trace/diagnosis.ts (the web console gives the same one) from requests every
// broker answers (no new request code): the trace timeline (queryMsgTraceById's lookups), the groups
// that consume the topic (QUERY_TOPIC_CONSUME_BY_WHO plus groups the trace saw), each group's online
// clients and subscription (GET_CONSUMER_CONNECTION_LIST), its committed offset and lag
// (GET_CONSUME_STATS). Here they are asked over the admin command's AdminApi.
import { TopicValidator } from '../../common/message-const.js';
import { diagnoseReport, type Diagnosis, type DiagnosisLookup, type GroupConnection, type GroupConsumeStats } from '../../observability/trace/diagnosis.js';
import { RequestCode, ResponseCode } from '../../remoting/index.js';
import { CONSUMER_GROUP_HEADER, encodeHeader, GET_CONSUME_STATS_HEADER, TOPIC_HEADER } from '../../remoting/protocol/index.js';
import { AdminLookupError, jsonBody, type AdminApi } from './admin-api.js';
import type { AddSubcommand } from './admin-command.js';
import type { AdminContext } from './admin-context.js';
import { formatTable } from './table.js';
import { checkMessageId, formatMillis, registerTraceCommands, traceReportOf } from './trace-commands.js';

export { diagnoseGroup, type Diagnosis, type GroupDiagnosis, type GroupState } from '../../observability/trace/diagnosis.js';

/** The diagnosis' live lookups over AdminApi; an answer other than SUCCESS counts as "nothing known". */
export function adminDiagnosisLookup(api: AdminApi): DiagnosisLookup {
  return {
    async masters(topic) {
      const route = await api.route(topic);
      const masters = route.brokerDatas.map((b) => ({ brokerName: b.brokerName, addr: b.brokerAddrs['0'] })).filter((b): b is { brokerName: string; addr: string } => !!b.addr);
      if (masters.length === 0) throw new AdminLookupError(`topic ${topic} has no master broker online`);
      return masters;
    },
    async groupsOf(addr, topic) {
      const w = await api.invoke(addr, RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, encodeHeader(TOPIC_HEADER, { topic }));
      return w.code === ResponseCode.SUCCESS ? (jsonBody<{ groupList?: string[] }>(w, 'consumer groups').groupList ?? []) : [];
    },
    async connection(addr, group) {
      const c = await api.invoke(addr, RequestCode.GET_CONSUMER_CONNECTION_LIST, encodeHeader(CONSUMER_GROUP_HEADER, { consumerGroup: group }));
      return c.code === ResponseCode.SUCCESS ? jsonBody<GroupConnection>(c, 'consumer connection list') : undefined;
    },
    async consumeStats(addr, group, topic) {
      const s = await api.invoke(addr, RequestCode.GET_CONSUME_STATS, encodeHeader(GET_CONSUME_STATS_HEADER, { consumerGroup: group, topic }));
      return s.code === ResponseCode.SUCCESS ? jsonBody<GroupConsumeStats>(s, 'consume stats') : undefined;
    },
  };
}

export async function diagnose(ctx: AdminContext, id: string, topic: string): Promise<Diagnosis> {
  const r = await traceReportOf(ctx, id, topic, TopicValidator.RMQ_SYS_TRACE_TOPIC);
  return diagnoseReport(r, topic, adminDiagnosisLookup(ctx.api));
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
