// updateTopic, deleteTopic, topicList, topicRoute, topicStatus.
import { RequestCode } from '../../remoting/index.js';
import { jsonBody } from './admin-api.js';
import { AdminUsageError, boolOption, intOption, targetAddrs, targetOf, type AdminContext } from './admin-context.js';
import { formatTable, formatTime } from './table.js';

export interface UpdateTopicOptions {
  clusterName?: string;
  brokerAddr?: string;
  topic: string;
  readQueueNums?: string;
  writeQueueNums?: string;
  perm?: string;
  order?: string;
  attributes?: string;
}

const TOPIC_RE = /^[%|a-zA-Z0-9_-]+$/;

function permString(perm: number): string {
  return `${perm & 4 ? 'R' : '-'}${perm & 2 ? 'W' : '-'}${perm & 1 ? 'X' : '-'}`;
}

export async function updateTopic(ctx: AdminContext, o: UpdateTopicOptions): Promise<void> {
  if (!TOPIC_RE.test(o.topic) || o.topic.length > 127) throw new AdminUsageError(`topic "${o.topic}" is not valid: 1..127 of [%|a-zA-Z0-9_-]`);
  const target = targetOf(o);
  const tc = {
    topicName: o.topic,
    readQueueNums: intOption('-r readQueueNums', o.readQueueNums, 1, 1024) ?? 8,
    writeQueueNums: intOption('-w writeQueueNums', o.writeQueueNums, 1, 1024) ?? 8,
    perm: intOption('-p perm', o.perm, 0, 7) ?? 6,
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: boolOption('-o order', o.order) ?? false,
    attributes: o.attributes ?? '',
  };
  const header = { topic: tc.topicName, defaultTopic: 'TBW102', readQueueNums: tc.readQueueNums, writeQueueNums: tc.writeQueueNums, perm: tc.perm, topicFilterType: tc.topicFilterType, topicSysFlag: 0, order: tc.order, attributes: tc.attributes || undefined };
  for (const addr of await targetAddrs(ctx, target)) {
    await ctx.api.brokerOk(addr, RequestCode.UPDATE_AND_CREATE_TOPIC, header);
    ctx.out(`create topic to ${addr} success.\n`);
  }
  ctx.out(
    `TopicConfig [topicName=${tc.topicName}, readQueueNums=${tc.readQueueNums}, writeQueueNums=${tc.writeQueueNums}, perm=${permString(tc.perm)}, topicFilterType=${tc.topicFilterType}, topicSysFlag=0, order=${tc.order}, attributes=${tc.attributes || '{}'}]\n`,
  );
}

export async function deleteTopic(ctx: AdminContext, o: { clusterName: string; topic: string }): Promise<void> {
  for (const { addr } of await ctx.api.masterAddrsOfCluster(o.clusterName)) {
    await ctx.api.brokerOk(addr, RequestCode.DELETE_TOPIC_IN_BROKER, { topic: o.topic });
  }
  ctx.out(`delete topic [${o.topic}] from cluster [${o.clusterName}] success.\n`);
  await ctx.api.namesrvOk(RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: o.topic, clusterName: o.clusterName });
  ctx.out(`delete topic [${o.topic}] from NameServer success.\n`);
}

export async function topicList(ctx: AdminContext): Promise<void> {
  const r = jsonBody<{ topicList?: string[] }>(await ctx.api.namesrvOk(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER), 'topic list');
  for (const t of [...(r.topicList ?? [])].sort()) ctx.out(`${t}\n`);
}

export async function topicRoute(ctx: AdminContext, o: { topic: string }): Promise<void> {
  ctx.out(`${JSON.stringify(await ctx.api.route(o.topic), null, 2)}\n`);
}

interface TopicOffsetEntry {
  queueId: number;
  minOffset: number;
  maxOffset: number;
  lastUpdateTimestamp: number;
}

/** Per queue of every broker in the topic's route: min/max offset and the last store time. */
export async function topicStatus(ctx: AdminContext, o: { topic: string }): Promise<void> {
  const route = await ctx.api.route(o.topic);
  const rows: (string | number)[][] = [];
  for (const bd of [...route.brokerDatas].sort((a, b) => a.brokerName.localeCompare(b.brokerName))) {
    const addr = bd.brokerAddrs['0'];
    if (!addr) continue;
    const r = await ctx.api.brokerOk(addr, RequestCode.GET_TOPIC_STATS_INFO, { topic: o.topic });
    const { offsetTable } = jsonBody<{ offsetTable: TopicOffsetEntry[] }>(r, 'topic stats');
    for (const e of offsetTable) rows.push([bd.brokerName, e.queueId, e.minOffset, e.maxOffset, formatTime(e.lastUpdateTimestamp)]);
  }
  ctx.out(formatTable(['Broker Name', 'QID', 'Min Offset', 'Max Offset', 'Last Updated'], rows));
}
