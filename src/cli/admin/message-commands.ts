// queryMsgById, queryMsgByKey, queryMsgByUniqueKey, queryMsgByOffset, printMsg: mqadmin's names,
// flags and layout, and `--json` for scripts. Nothing found is exit 1 with what was looked for; a
// malformed id or time is a usage error (exit 2).
import { AdminLookupError } from './admin-api.js';
import type { AddSubcommand } from './admin-command.js';
import { AdminUsageError, intOption, type AdminContext } from './admin-context.js';
import { directConsume, formatDirectResult, type DirectResult } from './connection-commands.js';
import { checkMessageId, MessageLookup, messageJson, originTopicOf, type FoundMessage, type QueueRef } from './message-lookup.js';
import { formatTable } from './table.js';

/** printMsg's default bound on printed messages. */
const PRINT_MAX_DEFAULT = 100;
/** Body characters shown in the text layout (the whole body is in --json). */
const BODY_PREVIEW = 512;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A point in time given on the command line: epoch milliseconds, "now", a relative "-1h" / "-30m"
 * / "-10s" / "-2d", mqadmin's "yyyy-MM-dd#HH:mm:ss:SSS" (local time) or an ISO 8601 date.
 */
export function parseTimeOption(name: string, raw: string | undefined, now = Date.now()): number | undefined {
  if (raw === undefined) return undefined;
  const v = raw.trim();
  if (/^\d+$/.test(v)) return Number(v);
  if (v === 'now') return now;
  const rel = /^-(\d+)(ms|s|m|h|d)$/.exec(v);
  if (rel) return now - Number(rel[1]) * UNITS[rel[2]];
  const mq = /^(\d{4})-(\d{2})-(\d{2})#(\d{2}):(\d{2}):(\d{2}):(\d{3})$/.exec(v);
  if (mq) {
    const [y, mo, d, h, mi, s, ms] = mq.slice(1).map(Number);
    return new Date(y, mo - 1, d, h, mi, s, ms).getTime();
  }
  const t = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (Number.isFinite(t)) return t;
  throw new AdminUsageError(`option ${name}: expected epoch milliseconds, "now", a relative time like -1h, yyyy-MM-dd#HH:mm:ss:SSS or an ISO date, got "${raw}"`);
}

/** begin/end options checked together: an end before the begin is a usage error. */
export function timeRange(o: { beginTimestamp?: string; endTimestamp?: string }, beginName = '-b beginTimestamp', endName = '-e endTimestamp'): { begin?: number; end?: number } {
  const begin = parseTimeOption(beginName, o.beginTimestamp);
  const end = parseTimeOption(endName, o.endTimestamp);
  if (begin !== undefined && end !== undefined && end < begin) throw new AdminUsageError(`the time range is empty: ${endName} (${end}) is before ${beginName} (${begin})`);
  return { begin, end };
}

/** "yyyy-MM-dd HH:mm:ss,SSS" in local time, as mqadmin's UtilAll.timeMillisToHumanString2. */
export function humanTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
}

function bodyPreview(body: Buffer): string {
  const text = body.toString('utf8');
  // Binary bodies (replacement characters or control bytes) print as Base64.
  // eslint-disable-next-line no-control-regex
  if (text.includes('\uFFFD') || /[\x00-\x08\x0E-\x1F]/.test(text)) return `(binary, base64) ${body.subarray(0, BODY_PREVIEW).toString('base64')}`;
  return text.length > BODY_PREVIEW ? `${text.slice(0, BODY_PREVIEW)}… (${body.length} bytes)` : text;
}

/** mqadmin's message detail block (queryMsgById, queryMsgByUniqueKey, queryMsgByOffset). */
export function formatMessage(m: FoundMessage): string {
  const rows: [string, string | number][] = [
    ['OffsetID', m.offsetMsgId],
    ['MsgId', m.msgId],
    ['Topic', m.topic],
    ['Origin Topic', originTopicOf(m)],
    ['Tags', `[${m.tags ?? ''}]`],
    ['Keys', `[${m.keys.join(' ')}]`],
    ['Broker Name', m.brokerName],
    ['Queue ID', m.queueId],
    ['Queue Offset', m.queueOffset],
    ['CommitLog Offset', m.commitLogOffset],
    ['Reconsume Times', m.reconsumeTimes],
    ['Born Timestamp', humanTime(m.bornTimestamp)],
    ['Store Timestamp', humanTime(m.storeTimestamp)],
    ['Born Host', m.bornHost],
    ['Store Host', m.storeHost],
    ['System Flag', m.sysFlag],
    ['Properties', JSON.stringify(m.properties)],
    ['Body Length', m.body.length],
    ['Message Body', bodyPreview(m.body)],
  ];
  return rows.map(([k, v]) => `${`${k}:`.padEnd(20)}${v}`).join('\n') + '\n';
}

function printMessages(ctx: AdminContext, msgs: FoundMessage[], json: boolean | undefined): void {
  if (json) {
    ctx.out(`${JSON.stringify(msgs.map(messageJson), null, 2)}\n`);
    return;
  }
  ctx.out(msgs.map(formatMessage).join('\n'));
}

interface DirectOptions {
  consumerGroup?: string;
  clientId?: string;
}

/**
 * mqadmin's -g group -d clientId on queryMsgById/ByUniqueKey: the (first) message found is also
 * pushed to that client (CONSUME_MESSAGE_DIRECTLY). With --json the output becomes
 * {messages, consumeResult}.
 */
async function printOrPush(ctx: AdminContext, msgs: FoundMessage[], o: DirectOptions & JsonOption): Promise<void> {
  if (!!o.consumerGroup !== !!o.clientId) throw new AdminUsageError('-g consumerGroup and -d clientId go together');
  if (!o.consumerGroup || !o.clientId || msgs.length === 0) {
    printMessages(ctx, msgs, o.json);
    return;
  }
  const result: DirectResult = await directConsume(ctx, msgs[0], o.consumerGroup, o.clientId);
  if (o.json) {
    ctx.out(`${JSON.stringify({ messages: msgs.map(messageJson), consumeResult: result }, null, 2)}\n`);
    return;
  }
  printMessages(ctx, msgs, false);
  ctx.out(`\n${formatDirectResult(result)}`);
}

function checkedId(id: string): string {
  const bad = checkMessageId(id);
  if (bad) throw new AdminUsageError(bad);
  return id;
}

interface JsonOption {
  json?: boolean;
}

export async function queryMsgById(ctx: AdminContext, o: { msgId: string; topic?: string } & DirectOptions & JsonOption): Promise<void> {
  const ids = o.msgId
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(checkedId);
  if (ids.length === 0) throw new AdminUsageError('option -i msgId: no id given');
  const lookup = new MessageLookup(ctx.api);
  const found: FoundMessage[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const list = await lookup.byId(id, o.topic);
    if (list.length === 0) missing.push(id);
    found.push(...list);
  }
  if (missing.length > 0 && found.length > 0) printMessages(ctx, found, o.json);
  else if (found.length > 0) await printOrPush(ctx, found, o);
  if (missing.length > 0) {
    const where = o.topic ? `topic ${o.topic}` : 'any topic';
    throw new AdminLookupError(`no message with id ${missing.join(', ')} (neither an offsetMsgId of a known broker nor a unique key in ${where})`);
  }
}

export async function queryMsgByUniqueKey(ctx: AdminContext, o: { msgId: string; topic: string; showAll?: boolean } & DirectOptions & JsonOption): Promise<void> {
  const id = checkedId(o.msgId.trim()).toUpperCase();
  const found = await new MessageLookup(ctx.api).byUniqueKey(id, o.topic, { maxNum: 32 });
  if (found.length === 0) throw new AdminLookupError(`no message with unique key ${id} in topic ${o.topic}`);
  // Several copies share a unique key (retries, resends); mqadmin shows the first unless -a.
  await printOrPush(ctx, o.showAll ? found : found.slice(0, 1), o);
}

export async function queryMsgByKey(
  ctx: AdminContext,
  o: { topic: string; msgKey: string; beginTimestamp?: string; endTimestamp?: string; maxNum?: string } & JsonOption,
): Promise<void> {
  const range = timeRange(o);
  const maxNum = intOption('-m maxNum', o.maxNum, 1, 64) ?? 64;
  const found = await new MessageLookup(ctx.api).byKey(o.topic, o.msgKey, { ...range, maxNum });
  if (found.length === 0) throw new AdminLookupError(`no message with key ${o.msgKey} in topic ${o.topic}${range.begin !== undefined || range.end !== undefined ? ' in that time range' : ''}`);
  if (o.json) {
    ctx.out(`${JSON.stringify(found.map(messageJson), null, 2)}\n`);
    return;
  }
  ctx.out(formatTable(['Message ID', 'Offset ID', 'Broker Name', 'QID', 'Offset', 'Store Time'], found.map((m) => [m.msgId, m.offsetMsgId, m.brokerName, m.queueId, m.queueOffset, humanTime(m.storeTimestamp)])));
}

export async function queryMsgByOffset(ctx: AdminContext, o: { topic: string; brokerName: string; queueId: string; offset: string } & JsonOption): Promise<void> {
  const queueId = intOption('-i queueId', o.queueId, 0, 65535)!;
  const offset = intOption('-o offset', o.offset, 0, Number.MAX_SAFE_INTEGER)!;
  const lookup = new MessageLookup(ctx.api);
  const q = (await lookup.queuesOf(o.topic)).find((x) => x.brokerName === o.brokerName && x.queueId === queueId);
  if (!q) {
    const names = [...new Set((await lookup.queuesOf(o.topic)).map((x) => x.brokerName))].join(', ');
    throw new AdminLookupError(`topic ${o.topic} has no queue ${queueId} on broker ${o.brokerName} (brokers: ${names})`);
  }
  const m = await lookup.byQueueOffset(q, offset);
  if (!m) {
    const b = await lookup.queueBounds(q);
    throw new AdminLookupError(`no message at offset ${offset} of ${o.topic} ${o.brokerName} queue ${queueId} (it holds offsets ${b.min}..${b.max - 1})`);
  }
  printMessages(ctx, [m], o.json);
}

/** printMsg: every message of the topic stored in the time range, queue by queue, at most --max. */
export async function printMsg(
  ctx: AdminContext,
  o: { topic: string; beginTimestamp?: string; endTimestamp?: string; subExpression?: string; printBody?: string; max?: string } & JsonOption,
): Promise<void> {
  const range = timeRange(o);
  const max = intOption('--max', o.max, 1, 1_000_000) ?? PRINT_MAX_DEFAULT;
  const tags = o.subExpression && o.subExpression.trim() !== '*' ? new Set(o.subExpression.split('||').map((t) => t.trim())) : undefined;
  const printBody = o.printBody === undefined || o.printBody === 'true';
  const lookup = new MessageLookup(ctx.api);
  const out: FoundMessage[] = [];
  let truncated = false;
  const queues: QueueRef[] = await lookup.queuesOf(o.topic);
  for (const q of queues) {
    const { from, to } = await lookup.rangeOf(q, range.begin, range.end);
    for await (const batch of lookup.scan(q, from, to)) {
      for (const m of batch) {
        if (range.begin !== undefined && m.storeTimestamp < range.begin) continue;
        if (range.end !== undefined && m.storeTimestamp > range.end) continue;
        if (tags && !tags.has(m.tags ?? '')) continue;
        if (out.length >= max) {
          truncated = true;
          break;
        }
        out.push(m);
      }
      if (truncated) break;
    }
    if (truncated) break;
  }
  if (out.length === 0) {
    const span = `${range.begin === undefined ? 'the first message' : humanTime(range.begin)} and ${range.end === undefined ? 'now' : humanTime(range.end)}`;
    throw new AdminLookupError(`no message of topic ${o.topic}${tags ? ` with tags ${[...tags].join('||')}` : ''} was stored between ${span}`);
  }
  if (o.json) {
    ctx.out(`${JSON.stringify({ messages: out.map(messageJson), count: out.length, truncated, max }, null, 2)}\n`);
    return;
  }
  for (const m of out) {
    ctx.out(`MSGID: ${m.msgId} BROKER: ${m.brokerName} QUEUE: ${m.queueId} OFFSET: ${m.queueOffset} STORE: ${humanTime(m.storeTimestamp)} TAGS: ${m.tags ?? ''} KEYS: ${m.keys.join(' ')}${printBody ? ` BODY: ${bodyPreview(m.body)}` : ''}\n`);
  }
  ctx.out(truncated ? `\n${out.length} messages printed; stopped at --max ${max}, more are in the range (narrow it with -b/-e or raise --max)\n` : `\n${out.length} messages\n`);
}

export function registerMessageCommands(sub: AddSubcommand): void {
  sub('queryMsgById', 'a message by offsetMsgId or unique key (several ids separated by commas)', queryMsgById)
    .requiredOption('-i, --msgId <ids>', 'offsetMsgId or unique key')
    .option('-t, --topic <topic>', 'topic of a unique key (without it every topic is searched)')
    .option('-g, --consumerGroup <group>', 'with -d: also push the message to this online consumer')
    .option('-d, --clientId <clientId>', 'with -g: the client to push it to')
    .option('--json', 'JSON output');
  sub('queryMsgByKey', 'messages of a topic by key', queryMsgByKey)
    .requiredOption('-t, --topic <topic>', 'topic')
    .requiredOption('-k, --msgKey <key>', 'message key')
    .option('-b, --beginTimestamp <time>', 'stored at or after (ms, now, -1h, yyyy-MM-dd#HH:mm:ss:SSS)')
    .option('-e, --endTimestamp <time>', 'stored at or before')
    .option('-m, --maxNum <n>', 'most messages per broker (1..64, default 64)')
    .option('--json', 'JSON output');
  sub('queryMsgByUniqueKey', 'a message by unique key (UNIQ_KEY, the msgId clients see)', queryMsgByUniqueKey)
    .requiredOption('-i, --msgId <id>', 'unique key')
    .requiredOption('-t, --topic <topic>', 'topic')
    .option('-a, --showAll', 'every stored copy (retries, resends), not just the newest')
    .option('-g, --consumerGroup <group>', 'with -d: also push the message to this online consumer')
    .option('-d, --clientId <clientId>', 'with -g: the client to push it to')
    .option('--json', 'JSON output');
  sub('queryMsgByOffset', 'the message at a queue offset', queryMsgByOffset)
    .requiredOption('-t, --topic <topic>', 'topic')
    .requiredOption('-b, --brokerName <name>', 'broker name')
    .requiredOption('-i, --queueId <id>', 'queue id')
    .requiredOption('-o, --offset <offset>', 'queue offset')
    .option('--json', 'JSON output');
  sub('printMsg', "a topic's messages stored in a time range (at most --max)", printMsg)
    .requiredOption('-t, --topic <topic>', 'topic')
    .option('-b, --beginTimestamp <time>', 'stored at or after (ms, now, -1h, yyyy-MM-dd#HH:mm:ss:SSS)')
    .option('-e, --endTimestamp <time>', 'stored at or before')
    .option('-s, --subExpression <tags>', 'only these tags ("a || b")')
    .option('-d, --printBody <bool>', 'print bodies (default true)')
    .option('--max <n>', `most messages printed (default ${PRINT_MAX_DEFAULT})`)
    .option('--json', 'JSON output');
}
