// consumerConnection, producerConnection and consumeMessageDirectly: who is connected, over which
// protocol, and "verify consumption" of one stored message by one online 4.x consumer. Remoting
// clients come from each master's client tables (GET_CONSUMER/PRODUCER_CONNECTION_LIST); 5.x
// clients connect to the gRPC endpoint instead, whose client list a broker serves with Apogee's
// GET_GRPC_CLIENT_LIST. Brokers without that request simply have no 5.x clients to show.
import { GET_GRPC_CLIENT_LIST, type GrpcClientListBody, type GrpcClientRow } from '../../console/grpc-client-list.js';
import { versionDesc } from '../../observability/metrics/index.js';
import { RequestCode, ResponseCode, bodyOf } from '../../remoting/index.js';
import { CONSUME_MESSAGE_DIRECTLY_HEADER } from '../../remoting/protocol/index.js';
import { encodeHeader } from '../../remoting/protocol/index.js';
import { AdminLookupError, AdminRequestError, jsonBody, type AdminApi } from './admin-api.js';
import type { AddSubcommand } from './admin-command.js';
import { AdminUsageError, intOption, type AdminContext } from './admin-context.js';
import { checkMessageId, MessageLookup, type FoundMessage } from './message-lookup.js';
import { formatTable } from './table.js';

export interface ClientConnection {
  clientId: string;
  clientAddr: string;
  language: string;
  version: string;
  protocol: 'remoting' | 'grpc';
  brokerName: string;
}

interface RemotingConnection {
  clientId: string;
  clientAddr: string;
  language: string;
  version: number;
}

interface ConsumerConnectionBody {
  connectionSet: RemotingConnection[];
  subscriptionTable: Record<string, { topic: string; subString: string }>;
  consumeType: string;
  messageModel: string;
  consumeFromWhere: string;
}

async function grpcClients(api: AdminApi, addr: string): Promise<GrpcClientRow[]> {
  const r = await api.invoke(addr, GET_GRPC_CLIENT_LIST);
  // Brokers without a gRPC endpoint (or older ones) do not serve the request.
  if (r.code !== ResponseCode.SUCCESS) return [];
  return jsonBody<GrpcClientListBody>(r, 'gRPC client list').clients;
}

function remotingRow(c: RemotingConnection, brokerName: string): ClientConnection {
  return { clientId: c.clientId, clientAddr: c.clientAddr, language: c.language, version: versionDesc(c.version).toUpperCase(), protocol: 'remoting', brokerName };
}

function grpcRow(c: GrpcClientRow, brokerName: string): ClientConnection {
  // The gRPC endpoint knows the client's host name (user agent), not its socket address.
  return { clientId: c.clientId, clientAddr: c.hostname || '-', language: c.language, version: c.version, protocol: 'grpc', brokerName };
}

/** One row per client id (a client connects to every broker it uses; the first broker seen is kept). */
function dedupe(rows: ClientConnection[]): ClientConnection[] {
  const seen = new Map<string, ClientConnection>();
  for (const r of rows) if (!seen.has(`${r.protocol}|${r.clientId}`)) seen.set(`${r.protocol}|${r.clientId}`, r);
  return [...seen.values()].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.clientId.localeCompare(b.clientId));
}

async function brokersToAsk(ctx: AdminContext, brokerAddr?: string): Promise<{ brokerName: string; addr: string }[]> {
  if (!brokerAddr) return new MessageLookup(ctx.api).masters();
  const info = await ctx.api.clusterInfo();
  const bd = Object.values(info.brokerAddrTable).find((b) => Object.values(b.brokerAddrs).includes(brokerAddr));
  if (!bd) throw new AdminLookupError(`broker ${brokerAddr} is not registered in the name server`);
  return [{ brokerName: bd.brokerName, addr: brokerAddr }];
}

export async function consumerConnection(ctx: AdminContext, o: { groupName: string; brokerAddr?: string; json?: boolean }): Promise<void> {
  const rows: ClientConnection[] = [];
  let details: ConsumerConnectionBody | undefined;
  const subscriptions = new Map<string, string>();
  for (const b of await brokersToAsk(ctx, o.brokerAddr)) {
    const r = await ctx.api.invoke(b.addr, RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: o.groupName });
    if (r.code === ResponseCode.SUCCESS) {
      const body = jsonBody<ConsumerConnectionBody>(r, 'consumer connection list');
      details ??= body;
      rows.push(...body.connectionSet.map((c) => remotingRow(c, b.brokerName)));
      for (const sd of Object.values(body.subscriptionTable)) subscriptions.set(sd.topic, sd.subString);
    } else if (r.code !== ResponseCode.CONSUMER_NOT_ONLINE) {
      throw new AdminRequestError(r.code, r.remark ?? '', b.addr);
    }
    for (const c of await grpcClients(ctx.api, b.addr)) {
      if (c.group !== o.groupName || c.clientType === 'producer') continue;
      rows.push(grpcRow(c, b.brokerName));
      for (const t of c.topics) if (!subscriptions.has(t)) subscriptions.set(t, '(5.x)');
    }
  }
  const clients = dedupe(rows);
  if (clients.length === 0) throw new AdminLookupError(`no consumer of group ${o.groupName} is online (neither over remoting nor over gRPC)`);
  if (o.json) {
    const subs = [...subscriptions].map(([topic, subExpression]) => ({ topic, subExpression }));
    ctx.out(`${JSON.stringify({ group: o.groupName, connections: clients, subscriptions: subs, consumeType: details?.consumeType ?? null, messageModel: details?.messageModel ?? null, consumeFromWhere: details?.consumeFromWhere ?? null }, null, 2)}\n`);
    return;
  }
  ctx.out(formatTable(['', 'ClientId', 'ClientAddr', 'Language', 'Version', 'Protocol'], clients.map((c, i) => [String(i + 1).padStart(3, '0'), c.clientId, c.clientAddr, c.language, c.version, c.protocol])));
  ctx.out('\nBelow is subscription:\n');
  ctx.out(formatTable(['Topic', 'SubExpression'], [...subscriptions].sort().map(([t, e]) => [t, e])));
  if (details) ctx.out(`\nConsumeType: ${details.consumeType}\nMessageModel: ${details.messageModel}\nConsumeFromWhere: ${details.consumeFromWhere}\n`);
}

export async function producerConnection(ctx: AdminContext, o: { producerGroup: string; topic: string; json?: boolean }): Promise<void> {
  const lookup = new MessageLookup(ctx.api);
  const rows: ClientConnection[] = [];
  for (const b of await lookup.brokersOf(o.topic)) {
    const r = await ctx.api.invoke(b.addr, RequestCode.GET_PRODUCER_CONNECTION_LIST, { producerGroup: o.producerGroup });
    if (r.code === ResponseCode.SUCCESS) {
      rows.push(...jsonBody<{ connectionSet: RemotingConnection[] }>(r, 'producer connection list').connectionSet.map((c) => remotingRow(c, b.brokerName)));
    } else if (r.code !== ResponseCode.SYSTEM_ERROR) {
      // SYSTEM_ERROR is Java's (and our) "the producer group not exist" on this broker.
      throw new AdminRequestError(r.code, r.remark ?? '', b.addr);
    }
    // 5.x producers have no group: they are listed under the topics they publish to.
    for (const c of await grpcClients(ctx.api, b.addr)) if (c.clientType === 'producer' && (c.topics.includes(o.topic) || o.producerGroup === o.topic)) rows.push(grpcRow(c, b.brokerName));
  }
  const clients = dedupe(rows);
  if (clients.length === 0) throw new AdminLookupError(`no producer of group ${o.producerGroup} (or 5.x producer of topic ${o.topic}) is online`);
  if (o.json) {
    ctx.out(`${JSON.stringify({ group: o.producerGroup, topic: o.topic, connections: clients }, null, 2)}\n`);
    return;
  }
  ctx.out(formatTable(['', 'ClientId', 'ClientAddr', 'Language', 'Version', 'Protocol'], clients.map((c, i) => [String(i + 1).padStart(4, '0'), c.clientId, c.clientAddr, c.language, c.version, c.protocol])));
}

export interface DirectResult {
  order?: boolean;
  autoCommit?: boolean;
  consumeResult?: string;
  remark?: string;
  spentTimeMills?: number;
}

/** CONSUME_MESSAGE_DIRECTLY of one found message to one client, through the broker that holds it. */
export async function directConsume(ctx: AdminContext, m: FoundMessage, consumerGroup: string, clientId: string, timeoutMillis = 4000): Promise<DirectResult> {
  const ext = encodeHeader(CONSUME_MESSAGE_DIRECTLY_HEADER, { consumerGroup, clientId, msgId: m.offsetMsgId, brokerName: m.brokerName, topic: m.topic, timeoutMillis });
  const r = await ctx.api.invoke(m.brokerAddr, RequestCode.CONSUME_MESSAGE_DIRECTLY, ext);
  if (r.code !== ResponseCode.SUCCESS) throw new AdminRequestError(r.code, r.remark ?? '', m.brokerAddr);
  try {
    return JSON.parse(bodyOf(r).toString('utf8')) as DirectResult;
  } catch {
    return { remark: bodyOf(r).toString('utf8') };
  }
}

export function formatDirectResult(result: DirectResult): string {
  return `ConsumeMessageDirectlyResult [order=${result.order ?? false}, autoCommit=${result.autoCommit ?? true}, consumeResult=${result.consumeResult ?? '-'}, remark=${result.remark ?? ''}, spentTimeMills=${result.spentTimeMills ?? '-'}]\n`;
}

export async function consumeMessageDirectly(ctx: AdminContext, o: { consumerGroup: string; clientId: string; msgId: string; topic?: string; timeout?: string; json?: boolean }): Promise<void> {
  const bad = checkMessageId(o.msgId);
  if (bad) throw new AdminUsageError(bad);
  // Admin requests time out after 5 s, so the broker may wait for the client a little less.
  const timeoutMillis = intOption('--timeout', o.timeout, 100, 4000) ?? 4000;
  const found = await new MessageLookup(ctx.api).byId(o.msgId, o.topic);
  if (found.length === 0) throw new AdminLookupError(`no message with id ${o.msgId}${o.topic ? ` in topic ${o.topic}` : ''}`);
  const m = found[0];
  const result = await directConsume(ctx, m, o.consumerGroup, o.clientId, timeoutMillis);
  if (o.json) {
    ctx.out(`${JSON.stringify({ msgId: m.msgId, offsetMsgId: m.offsetMsgId, clientId: o.clientId, result }, null, 2)}\n`);
    return;
  }
  ctx.out(formatDirectResult(result));
}

export function registerConnectionCommands(sub: AddSubcommand): void {
  sub('consumerConnection', "a group's online consumers (remoting and gRPC) and subscription", consumerConnection)
    .requiredOption('-g, --groupName <group>', 'consumer group')
    .option('-b, --brokerAddr <addr>', 'ask this broker only')
    .option('--json', 'JSON output');
  sub('producerConnection', "a producer group's online producers (and the topic's 5.x producers)", producerConnection)
    .requiredOption('-g, --producerGroup <group>', 'producer group')
    .requiredOption('-t, --topic <topic>', 'topic')
    .option('--json', 'JSON output');
  sub('consumeMessageDirectly', 'have one online 4.x consumer consume one stored message and print its answer', consumeMessageDirectly)
    .requiredOption('-g, --consumerGroup <group>', 'consumer group')
    .requiredOption('-d, --clientId <clientId>', 'client id (see consumerConnection)')
    .requiredOption('-i, --msgId <id>', 'offsetMsgId or unique key')
    .option('-t, --topic <topic>', 'topic of a unique key')
    .option('--timeout <ms>', 'how long the broker waits for the client (100..4000, default 4000)')
    .option('--json', 'JSON output');
}
