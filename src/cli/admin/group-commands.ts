// updateSubGroup, deleteSubGroup, consumerProgress.
import { RequestCode, ResponseCode } from '../../remoting/index.js';
import { AdminRequestError, jsonBody } from './admin-api.js';
import { boolOption, intOption, targetAddrs, targetOf, type AdminContext } from './admin-context.js';
import { formatTable, formatTime } from './table.js';

export interface UpdateSubGroupOptions {
  clusterName?: string;
  brokerAddr?: string;
  groupName: string;
  consumeEnable?: string;
  consumeFromMinEnable?: string;
  consumeBroadcastEnable?: string;
  consumeMessageOrderly?: string;
  retryQueueNums?: string;
  retryMaxTimes?: string;
  brokerId?: string;
  whichBrokerWhenConsumeSlowly?: string;
  notifyConsumerIdsChanged?: string;
}

/** Sends only the fields given: the broker keeps the rest (its defaults for a new group). */
export async function updateSubGroup(ctx: AdminContext, o: UpdateSubGroupOptions): Promise<void> {
  const target = targetOf(o);
  const cfg = {
    groupName: o.groupName,
    consumeEnable: boolOption('-s consumeEnable', o.consumeEnable),
    consumeFromMinEnable: boolOption('-m consumeFromMinEnable', o.consumeFromMinEnable),
    consumeBroadcastEnable: boolOption('-d consumeBroadcastEnable', o.consumeBroadcastEnable),
    consumeMessageOrderly: boolOption('-o consumeMessageOrderly', o.consumeMessageOrderly),
    retryQueueNums: intOption('-q retryQueueNums', o.retryQueueNums, 1, 64),
    retryMaxTimes: intOption('-r retryMaxTimes', o.retryMaxTimes, 0, 16),
    brokerId: intOption('-i brokerId', o.brokerId, 0, 1024),
    whichBrokerWhenConsumeSlowly: intOption('-w whichBrokerWhenConsumeSlowly', o.whichBrokerWhenConsumeSlowly, 0, 1024),
    notifyConsumerIdsChangedEnable: boolOption('-a notifyConsumerIdsChanged', o.notifyConsumerIdsChanged),
  };
  const body = Buffer.from(JSON.stringify(cfg));
  for (const addr of await targetAddrs(ctx, target)) {
    await ctx.api.brokerOk(addr, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, body);
    ctx.out(`create subscription group to ${addr} success.\n`);
  }
  ctx.out(`${JSON.stringify(cfg)}\n`);
}

export async function deleteSubGroup(ctx: AdminContext, o: { clusterName?: string; brokerAddr?: string; groupName: string; removeOffset?: string }): Promise<void> {
  const target = targetOf(o);
  const cleanOffset = boolOption('-r removeOffset', o.removeOffset) ?? false;
  for (const addr of await targetAddrs(ctx, target)) {
    await ctx.api.brokerOk(addr, RequestCode.DELETE_SUBSCRIPTIONGROUP, { groupName: o.groupName, cleanOffset });
    ctx.out(`delete subscription group [${o.groupName}] from broker [${addr}] success.\n`);
  }
}

interface OffsetWrapperEntry {
  topic: string;
  brokerName: string;
  queueId: number;
  brokerOffset: number;
  consumerOffset: number;
  lastTimestamp: number;
}

/**
 * Asks every master in the name server (a group may consume from any of them) and lists each
 * queue's broker offset, consumer offset and their difference, then the totals. Brokers that do
 * not hold the topic given with -t are skipped.
 */
export async function consumerProgress(ctx: AdminContext, o: { groupName: string; topic?: string }): Promise<void> {
  const info = await ctx.api.clusterInfo();
  const entries: OffsetWrapperEntry[] = [];
  let tps = 0;
  for (const bd of Object.values(info.brokerAddrTable).sort((a, b) => a.brokerName.localeCompare(b.brokerName))) {
    const addr = bd.brokerAddrs['0'];
    if (!addr) continue;
    const r = await ctx.api.invoke(addr, RequestCode.GET_CONSUME_STATS, { consumerGroup: o.groupName, topic: o.topic });
    if (r.code === ResponseCode.TOPIC_NOT_EXIST && o.topic) continue;
    if (r.code !== ResponseCode.SUCCESS) throw new AdminRequestError(r.code, r.remark ?? '', addr);
    const stats = jsonBody<{ offsetTable: OffsetWrapperEntry[]; consumeTps: number }>(r, 'consume stats');
    entries.push(...stats.offsetTable);
    tps += stats.consumeTps;
  }
  entries.sort((a, b) => a.topic.localeCompare(b.topic) || a.brokerName.localeCompare(b.brokerName) || a.queueId - b.queueId);
  let diffTotal = 0;
  const rows = entries.map((e) => {
    const diff = e.brokerOffset - e.consumerOffset;
    diffTotal += diff;
    return [e.topic, e.brokerName, e.queueId, e.brokerOffset, e.consumerOffset, diff, formatTime(e.lastTimestamp)];
  });
  ctx.out(formatTable(['Topic', 'Broker Name', 'QID', 'Broker Offset', 'Consumer Offset', 'Diff', 'LastTime'], rows));
  ctx.out(`\nConsume TPS: ${tps.toFixed(2)}\nDiff Total: ${diffTotal}\n`);
}
