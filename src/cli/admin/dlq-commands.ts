// exportDLQ and resendDLQ (issue 13). Export streams a group's dead letters (%DLQ%<group>) to a
// JSON Lines file a pull batch at a time, so memory stays bounded whatever the DLQ holds; resend
// asks the broker holding each dead letter to copy it to %RETRY%<group> (Apogee's
// RESEND_DLQ_MESSAGES), which also records the resend in the broker's resend log.
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import cliProgress from 'cli-progress';
import { GET_DLQ_RESEND_LOG, MAX_RESEND_BATCH, RESEND_DLQ_MESSAGES } from '../../remoting/protocol/index.js';
import type { DlqResendRecord, DlqResendResult } from '../../broker/service/dlq-resend-service.js';
import { bodyOf, ResponseCode } from '../../remoting/index.js';
import { AdminLookupError, AdminRequestError, jsonBody } from './admin-api.js';
import type { AddSubcommand } from './admin-command.js';
import { AdminUsageError, type AdminContext } from './admin-context.js';
import { humanTime, timeRange } from './message-commands.js';
import { checkMessageId, MessageLookup, originTopicOf, type FoundMessage, type QueueRef } from './message-lookup.js';
import { formatTable } from './table.js';

const dlqTopicOf = (group: string): string => `%DLQ%${group}`;
/** Resend requests carry at most this many dead letters (the broker takes up to MAX_RESEND_BATCH). */
const RESEND_BATCH = Math.min(256, MAX_RESEND_BATCH);

/** One line of an export file. */
export interface DlqExportLine {
  msgId: string;
  offsetMsgId: string;
  /** The topic the message was sent to (RETRY_TOPIC), not the DLQ. */
  topic: string;
  dlqTopic: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  keys: string[];
  tags: string | null;
  properties: Record<string, string>;
  reconsumeTimes: number;
  bornTimestamp: number;
  storeTimestamp: number;
  /** Earlier resends of this dead letter (the broker's resend log). */
  resent: { at: number; retryOffsetMsgId: string }[];
  body: string;
}

function exportLine(m: FoundMessage, resent: DlqResendRecord[] | undefined): DlqExportLine {
  return {
    msgId: m.msgId,
    offsetMsgId: m.offsetMsgId,
    topic: originTopicOf(m),
    dlqTopic: m.topic,
    brokerName: m.brokerName,
    queueId: m.queueId,
    queueOffset: m.queueOffset,
    keys: m.keys,
    tags: m.tags ?? null,
    properties: m.properties,
    reconsumeTimes: m.reconsumeTimes,
    bornTimestamp: m.bornTimestamp,
    storeTimestamp: m.storeTimestamp,
    resent: (resent ?? []).map((r) => ({ at: r.resentAt, retryOffsetMsgId: r.retryOffsetMsgId })),
    body: m.body.toString('base64'),
  };
}

/** The group's DLQ queues; a group that never dead-lettered has no DLQ topic. */
async function dlqQueues(lookup: MessageLookup, group: string): Promise<QueueRef[]> {
  try {
    return await lookup.queuesOf(dlqTopicOf(group));
  } catch (err) {
    if (err instanceof AdminLookupError) throw new AdminLookupError(`group ${group} has no dead letters: topic ${dlqTopicOf(group)} does not exist`);
    throw err;
  }
}

/** The broker's resend log for the group, by dead letter offsetMsgId (empty from a broker without one). */
async function resendLog(ctx: AdminContext, addrs: Iterable<string>, group: string): Promise<Map<string, DlqResendRecord[]>> {
  const out = new Map<string, DlqResendRecord[]>();
  for (const addr of new Set(addrs)) {
    const r = await ctx.api.invoke(addr, GET_DLQ_RESEND_LOG, { consumerGroup: group });
    if (r.code === ResponseCode.REQUEST_CODE_NOT_SUPPORTED) continue;
    if (r.code !== ResponseCode.SUCCESS) throw new AdminRequestError(r.code, r.remark ?? '', addr);
    for (const rec of jsonBody<{ records: DlqResendRecord[] }>(r, 'DLQ resend log').records) {
      const list = out.get(rec.dlqOffsetMsgId);
      if (list) list.push(rec);
      else out.set(rec.dlqOffsetMsgId, [rec]);
    }
  }
  return out;
}

/** Resolves when the stream has room again; write errors reject. */
function writeLine(out: WriteStream, line: string): Promise<void> | undefined {
  if (out.write(line)) return undefined;
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      out.off('error', onError);
      resolve();
    };
    const onError = (err: Error): void => {
      out.off('drain', onDrain);
      reject(err);
    };
    out.once('drain', onDrain).once('error', onError);
  });
}

function progressBar(total: number): { update(n: number): void; stop(): void } {
  if (!process.stderr.isTTY || total === 0) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'exporting [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (n) => bar.update(n), stop: () => bar.stop() };
}

export async function exportDLQ(ctx: AdminContext, o: { groupName: string; file: string; begin?: string; end?: string; json?: boolean }): Promise<void> {
  const range = timeRange({ beginTimestamp: o.begin, endTimestamp: o.end }, '--begin', '--end');
  const lookup = new MessageLookup(ctx.api);
  const queues = await dlqQueues(lookup, o.groupName);
  const resent = await resendLog(
    ctx,
    queues.map((q) => q.brokerAddr),
    o.groupName,
  );
  const spans = await Promise.all(queues.map(async (q) => ({ q, ...(await lookup.rangeOf(q, range.begin, range.end)) })));
  const total = spans.reduce((n, s) => n + (s.to - s.from), 0);

  const out = createWriteStream(o.file, { flags: 'w' });
  const opened = new Promise<void>((resolve, reject) => out.once('open', () => resolve()).once('error', reject));
  try {
    await opened;
  } catch (err) {
    throw new AdminUsageError(`cannot write ${o.file}: ${(err as Error).message}`);
  }
  // A write error (disk full, say) may come while no write waits for it: kept and reported.
  let writeError: Error | undefined;
  out.on('error', (err) => (writeError ??= err));
  const bar = progressBar(total);
  let count = 0;
  let scanned = 0;
  let resentBefore = 0;
  try {
    for (const s of spans) {
      for await (const batch of lookup.scan(s.q, s.from, s.to)) {
        for (const m of batch) {
          scanned++;
          if (range.begin !== undefined && m.storeTimestamp < range.begin) continue;
          if (range.end !== undefined && m.storeTimestamp > range.end) continue;
          const history = resent.get(m.offsetMsgId);
          if (history) resentBefore++;
          await writeLine(out, JSON.stringify(exportLine(m, history)) + '\n');
          count++;
        }
        bar.update(scanned);
        if (writeError) throw new AdminLookupError(`writing ${o.file} failed after ${count} dead letters: ${writeError.message}`);
      }
    }
  } finally {
    bar.stop();
    // 'close' comes after the last write either succeeded ('finish') or failed ('error').
    await new Promise<void>((resolve) => {
      if (out.closed) return resolve();
      out.once('close', () => resolve());
      out.end();
    });
  }
  if (writeError) throw new AdminLookupError(`writing ${o.file} failed after ${count} dead letters: ${(writeError as Error).message}`);
  if (count === 0) {
    rmSync(o.file, { force: true });
    const span = range.begin !== undefined || range.end !== undefined ? ` stored between ${range.begin === undefined ? 'the first' : humanTime(range.begin)} and ${range.end === undefined ? 'now' : humanTime(range.end)}` : '';
    throw new AdminLookupError(`group ${o.groupName} has no dead letters${span}; nothing written to ${o.file}`);
  }
  if (o.json) ctx.out(`${JSON.stringify({ group: o.groupName, file: o.file, count, resentBefore })}\n`);
  else ctx.out(`exported ${count} dead letters of group ${o.groupName} to ${o.file}${resentBefore ? ` (${resentBefore} of them resent before)` : ''}\n`);
}

interface ResendRow {
  id: string;
  msgId: string;
  dlqOffsetMsgId: string;
  status: string;
  retryOffsetMsgId: string;
  remark: string;
}

/** The dead letters the -i ids name (an offsetMsgId in the DLQ, or a unique key's newest copy there). */
async function pickById(lookup: MessageLookup, group: string, ids: string[], rows: ResendRow[]): Promise<FoundMessage[]> {
  const dlq = dlqTopicOf(group);
  const picked: FoundMessage[] = [];
  for (const id of ids) {
    const direct = await lookup.byOffsetMsgId(id);
    if (direct && direct.topic !== dlq) {
      rows.push({ id, msgId: direct.msgId, dlqOffsetMsgId: direct.offsetMsgId, status: 'NOT_IN_DLQ', retryOffsetMsgId: '', remark: `the message is in ${direct.topic}, not in ${dlq}` });
      continue;
    }
    const m = direct ?? (await lookup.byUniqueKey(id.toUpperCase(), dlq, { maxNum: 32 }))[0];
    if (!m) rows.push({ id, msgId: '', dlqOffsetMsgId: '', status: 'NOT_FOUND', retryOffsetMsgId: '', remark: `no dead letter of group ${group} with this id` });
    else picked.push(m);
  }
  return picked;
}

export async function resendDLQ(ctx: AdminContext, o: { groupName: string; msgId?: string; all?: boolean; begin?: string; end?: string; json?: boolean }): Promise<void> {
  if (!!o.msgId === !!o.all) throw new AdminUsageError('give either -i msgId[,msgId…] or --all');
  const range = timeRange({ beginTimestamp: o.begin, endTimestamp: o.end }, '--begin', '--end');
  if (o.msgId && (range.begin !== undefined || range.end !== undefined)) throw new AdminUsageError('--begin/--end go with --all, not with -i');
  const lookup = new MessageLookup(ctx.api);
  const queues = await dlqQueues(lookup, o.groupName);
  const rows: ResendRow[] = [];
  const resendBatch = async (addr: string, msgs: FoundMessage[]): Promise<void> => {
    const r = await ctx.api.brokerOk(addr, RESEND_DLQ_MESSAGES, { consumerGroup: o.groupName }, Buffer.from(JSON.stringify({ offsets: msgs.map((m) => m.commitLogOffset) })));
    const results = (JSON.parse(bodyOf(r).toString('utf8')) as { results: DlqResendResult[] }).results;
    msgs.forEach((m, i) => {
      const res = results[i];
      rows.push({ id: m.msgId, msgId: m.msgId, dlqOffsetMsgId: m.offsetMsgId, status: res?.status ?? 'FAILED', retryOffsetMsgId: res?.retryOffsetMsgId ?? '', remark: res?.remark ?? '' });
    });
  };

  if (o.msgId) {
    const ids = o.msgId
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const id of ids) {
      const bad = checkMessageId(id);
      if (bad) throw new AdminUsageError(bad);
    }
    const picked = await pickById(lookup, o.groupName, ids, rows);
    const byAddr = new Map<string, FoundMessage[]>();
    for (const m of picked) byAddr.set(m.brokerAddr, [...(byAddr.get(m.brokerAddr) ?? []), m]);
    for (const [addr, msgs] of byAddr) for (let i = 0; i < msgs.length; i += RESEND_BATCH) await resendBatch(addr, msgs.slice(i, i + RESEND_BATCH));
  } else {
    for (const q of queues) {
      const { from, to } = await lookup.rangeOf(q, range.begin, range.end);
      let pending: FoundMessage[] = [];
      for await (const batch of lookup.scan(q, from, to)) {
        for (const m of batch) {
          if (range.begin !== undefined && m.storeTimestamp < range.begin) continue;
          if (range.end !== undefined && m.storeTimestamp > range.end) continue;
          pending.push(m);
        }
        if (pending.length >= RESEND_BATCH) {
          await resendBatch(q.brokerAddr, pending);
          pending = [];
        }
      }
      if (pending.length > 0) await resendBatch(q.brokerAddr, pending);
    }
    if (rows.length === 0) throw new AdminLookupError(`group ${o.groupName} has no dead letters${range.begin !== undefined || range.end !== undefined ? ' in that time range' : ''}`);
  }

  const ok = rows.filter((r) => r.status === 'OK').length;
  if (o.json) {
    ctx.out(`${JSON.stringify({ group: o.groupName, retryTopic: `%RETRY%${o.groupName}`, resent: ok, failed: rows.length - ok, results: rows }, null, 2)}\n`);
  } else {
    ctx.out(formatTable(['Message ID', 'DLQ Offset ID', 'Status', 'Retry Offset ID', 'Remark'], rows.map((r) => [r.msgId || r.id, r.dlqOffsetMsgId || '-', r.status, r.retryOffsetMsgId || '-', r.remark])));
    ctx.out(`\nresent ${ok} of ${rows.length} dead letters of group ${o.groupName} to %RETRY%${o.groupName}\n`);
  }
  if (ok < rows.length) throw new AdminLookupError(`${rows.length - ok} of ${rows.length} dead letters were not resent (see the Status column)`);
}

export function registerDlqCommands(sub: AddSubcommand): void {
  sub('exportDLQ', "a group's dead letters to a JSON Lines file (one message per line, body in Base64)", exportDLQ)
    .requiredOption('-g, --groupName <group>', 'consumer group')
    .requiredOption('-f, --file <file>', 'file to write')
    .option('--begin <time>', 'stored at or after (ms, now, -1h, yyyy-MM-dd#HH:mm:ss:SSS)')
    .option('--end <time>', 'stored at or before')
    .option('--json', 'JSON summary');
  sub('resendDLQ', "send dead letters back to the group's retry topic so the group consumes them again", resendDLQ)
    .requiredOption('-g, --groupName <group>', 'consumer group')
    .option('-i, --msgId <ids>', 'dead letters by unique key or offsetMsgId, separated by commas')
    .option('--all', 'every dead letter of the group (with --begin/--end: those stored in the range)')
    .option('--begin <time>', 'with --all: stored at or after')
    .option('--end <time>', 'with --all: stored at or before')
    .option('--json', 'JSON output');
}
