// liteTopicList (issue 18): the lite topics of a LITE parent on every master that serves it, with
// message counts, last store time and each consumer group's backlog (Apogee's GET_LITE_TOPIC_LIST).
import type { LiteTopicListBody } from '../../broker/lite/lite-admin-processor.js';
import { ResponseCode } from '../../remoting/index.js';
import { GET_LITE_TOPIC_LIST } from '../../remoting/protocol/index.js';
import { AdminRequestError, jsonBody } from './admin-api.js';
import type { AddSubcommand } from './admin-command.js';
import { intOption, type AdminContext } from './admin-context.js';
import { humanTime } from './message-commands.js';
import { MessageLookup } from './message-lookup.js';
import { formatTable } from './table.js';

export async function liteTopicList(ctx: AdminContext, o: { topic: string; prefix?: string; limit?: string; json?: boolean }): Promise<void> {
  const limit = intOption('limit', o.limit, 1, 100_000) ?? 1000;
  const route = await ctx.api.route(o.topic);
  const names = new Set(route.queueDatas.map((q) => q.brokerName));
  const bodies: (LiteTopicListBody & { brokerName: string })[] = [];
  for (const b of await new MessageLookup(ctx.api).masters()) {
    if (!names.has(b.brokerName)) continue;
    const r = await ctx.api.invoke(b.addr, GET_LITE_TOPIC_LIST, { topic: o.topic, limit, ...(o.prefix ? { prefix: o.prefix } : {}) });
    if (r.code !== ResponseCode.SUCCESS) throw new AdminRequestError(r.code, r.remark ?? '', b.addr);
    bodies.push({ ...jsonBody<LiteTopicListBody>(r, 'lite topic list'), brokerName: b.brokerName });
  }
  if (o.json) {
    ctx.out(JSON.stringify(bodies, null, 2) + '\n');
    return;
  }
  const rows = bodies.flatMap((b) =>
    b.liteTopics.map((t) => [
      b.brokerName,
      t.name,
      t.queueId,
      t.count,
      humanTime(t.lastStoreTime),
      Object.entries(t.backlog)
        .map(([g, n]) => `${g}=${n}`)
        .join(',') || '-',
    ]),
  );
  ctx.out(formatTable(['Broker', 'Lite Topic', 'Queue', 'Messages', 'Last Store', 'Backlog (group=n)'], rows));
  for (const b of bodies) {
    const subs = b.subscriptions.map((s) => `${s.group}=${s.count}`).join(', ') || 'none';
    ctx.out(`${b.brokerName}: ${b.total} lite topics in ${b.topic}, ${b.matched} matched, ${Math.min(b.matched, limit)} shown; subscriptions ${subs}\n`);
  }
}

export function registerLiteCommands(sub: AddSubcommand): void {
  sub('liteTopicList', 'the lite topics of a LITE topic, with counts and backlog per group', liteTopicList)
    .requiredOption('-t, --topic <topic>', 'the LITE (parent) topic')
    .option('--prefix <prefix>', 'only lite topics whose name starts so')
    .option('--limit <n>', 'at most this many per broker (default 1000)')
    .option('--json', 'JSON output');
}
