// resetOffsetByTime: mqadmin's flags. Each broker serving the topic gets
// INVOKE_BROKER_TO_RESET_OFFSET (222) and resets the group there, online clients included (see
// src/broker/service/offset-reset-service.ts). A broker that does not take 222, or a Java broker
// that answers CONSUMER_NOT_ONLINE, is reset the "old" way mqadmin falls back to: the offset by
// time of each queue, committed with UPDATE_CONSUMER_OFFSET.
import { RequestCode, ResponseCode } from '../../remoting/index.js';
import { encodeHeader, UPDATE_CONSUMER_OFFSET_HEADER } from '../../remoting/protocol/index.js';
import { RESET_OFFSET_HEADER } from '../../remoting/protocol/index.js';
import type { QueueResetOffset } from '../../broker/service/offset-reset-service.js';
import { AdminLookupError, AdminRequestError, jsonBody } from './admin-api.js';
import type { AddSubcommand } from './admin-command.js';
import { boolOption, type AdminContext } from './admin-context.js';
import { humanTime, parseTimeOption } from './message-commands.js';
import { MessageLookup } from './message-lookup.js';
import { formatTable } from './table.js';

interface BrokerReset {
  offsets: QueueResetOffset[];
  notified: string[];
  /** 'broker': reset by the broker (222); 'offline': queue by queue from here. */
  via: 'broker' | 'offline';
}

async function offlineReset(ctx: AdminContext, lookup: MessageLookup, group: string, topic: string, brokerName: string, timestamp: number): Promise<BrokerReset> {
  const offsets: QueueResetOffset[] = [];
  for (const q of (await lookup.queuesOf(topic)).filter((x) => x.brokerName === brokerName)) {
    const b = await lookup.queueBounds(q);
    const offset = timestamp < 0 ? b.max : Math.max(b.min, await lookup.offsetByTime(q, timestamp));
    await ctx.api.brokerOk(q.brokerAddr, RequestCode.UPDATE_CONSUMER_OFFSET, encodeHeader(UPDATE_CONSUMER_OFFSET_HEADER, { consumerGroup: group, topic, queueId: q.queueId, commitOffset: offset }));
    offsets.push({ topic, brokerName, queueId: q.queueId, offset, previous: -1 });
  }
  return { offsets, notified: [], via: 'offline' };
}

export async function resetOffsetByTime(ctx: AdminContext, o: { groupName: string; topic: string; timestamp: string; force?: string; json?: boolean }): Promise<void> {
  const timestamp = parseTimeOption('-s timestamp', o.timestamp)!;
  const isForce = boolOption('-f force', o.force) ?? true;
  const lookup = new MessageLookup(ctx.api);
  const results: BrokerReset[] = [];
  for (const b of await lookup.brokersOf(o.topic)) {
    const r = await ctx.api.invoke(b.addr, RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, encodeHeader(RESET_OFFSET_HEADER, { topic: o.topic, group: o.groupName, timestamp, isForce }));
    if (r.code === ResponseCode.SUCCESS) {
      const body = jsonBody<{ offsetTable: QueueResetOffset[]; notified: string[] }>(r, 'reset offset');
      results.push({ offsets: body.offsetTable, notified: body.notified, via: 'broker' });
    } else if (r.code === ResponseCode.REQUEST_CODE_NOT_SUPPORTED || r.code === ResponseCode.CONSUMER_NOT_ONLINE) {
      results.push(await offlineReset(ctx, lookup, o.groupName, o.topic, b.brokerName, timestamp));
    } else if (r.code === ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST || r.code === ResponseCode.TOPIC_NOT_EXIST) {
      throw new AdminLookupError(r.remark ?? `broker ${b.brokerName} answered code ${r.code}`);
    } else {
      throw new AdminRequestError(r.code, r.remark ?? '', b.addr);
    }
  }
  const offsets = results.flatMap((r) => r.offsets).sort((a, b) => a.brokerName.localeCompare(b.brokerName) || a.queueId - b.queueId);
  const notified = [...new Set(results.flatMap((r) => r.notified))].sort();
  if (o.json) {
    ctx.out(`${JSON.stringify({ group: o.groupName, topic: o.topic, timestamp, offsets, notified }, null, 2)}\n`);
    return;
  }
  ctx.out(`reset group ${o.groupName} on topic ${o.topic} to ${timestamp < 0 ? 'the end of each queue' : humanTime(timestamp)}\n`);
  ctx.out(formatTable(['brokerName', 'queueId', 'offset', 'previous'], offsets.map((x) => [x.brokerName, x.queueId, x.offset, x.previous < 0 ? '-' : x.previous])));
  ctx.out(notified.length > 0 ? `\nonline 4.x consumers told: ${notified.join(', ')}\n` : '\nno 4.x consumer online; 5.x consumers and consumers started later read the new offsets\n');
}

export function registerOffsetCommands(sub: AddSubcommand): void {
  sub('resetOffsetByTime', "move a group's offsets on a topic to a point in time (consumers online or not)", resetOffsetByTime)
    .requiredOption('-g, --groupName <group>', 'consumer group')
    .requiredOption('-t, --topic <topic>', 'topic')
    .requiredOption('-s, --timestamp <time>', 'ms, now, -1h, yyyy-MM-dd#HH:mm:ss:SSS or an ISO date')
    .option('-f, --force <bool>', 'also move offsets forward (default true; false only moves them back)')
    .option('--json', 'JSON output');
}
