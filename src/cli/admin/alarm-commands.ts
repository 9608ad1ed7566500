// alarmList: the alarm rules of every broker the name servers list (or of one broker / cluster)
// and the state of each alarm, fetched with Apogee's GET_ALARM_LIST request.
import { GET_ALARM_LIST, type AlarmListBody, type AlarmRuleStatus } from '../../observability/alarms/alarm-status.js';
import { formatDuration } from '../../observability/alarms/duration.js';
import { AdminLookupError, jsonBody } from './admin-api.js';
import type { AdminContext } from './admin-context.js';
import { formatTable, formatTime } from './table.js';

/** Brokers to ask: -b alone, else every broker (masters and slaves) of -c or of every cluster. */
async function brokersToAsk(ctx: AdminContext, o: { clusterName?: string; brokerAddr?: string }): Promise<string[]> {
  if (o.brokerAddr) return [o.brokerAddr];
  const info = await ctx.api.clusterInfo();
  const clusters = o.clusterName ? [o.clusterName] : Object.keys(info.clusterAddrTable).sort();
  if (o.clusterName && !info.clusterAddrTable[o.clusterName]) {
    throw new AdminLookupError(`cluster ${o.clusterName} is not registered in the name server (known: ${Object.keys(info.clusterAddrTable).join(', ') || 'none'})`);
  }
  const addrs: string[] = [];
  for (const cluster of clusters) {
    for (const name of [...(info.clusterAddrTable[cluster] ?? [])].sort()) {
      const bd = info.brokerAddrTable[name];
      for (const id of Object.keys(bd?.brokerAddrs ?? {}).sort((a, b) => Number(a) - Number(b))) addrs.push(bd.brokerAddrs[id]);
    }
  }
  if (addrs.length === 0) throw new AdminLookupError('the name server lists no broker');
  return addrs;
}

/** A value in its rule type's unit. */
export function formatAlarmValue(type: string, v: number | undefined): string {
  if (v === undefined) return '-';
  switch (type) {
    case 'consumerLagLatency':
    case 'halfMessages':
      return `${v}s`;
    case 'diskUsage':
      return `${v}%`;
    case 'sendFailures':
      return `${v}/s`;
    case 'replicationLag':
      return `${v}B`;
    case 'brokerDown':
      return v > 0 ? 'missing' : 'listed';
    default:
      return String(v);
  }
}

function ruleRows(brokerName: string, r: AlarmRuleStatus): string[][] {
  const threshold = r.type === 'brokerDown' ? '-' : formatAlarmValue(r.type, r.threshold);
  const tail = [threshold, formatDuration(r.forMs)];
  if (r.alarms.length === 0) return [[brokerName, r.name, r.type, r.scope, 'ok', '-', '-', ...tail]];
  return r.alarms.map((a) => [brokerName, r.name, r.type, a.scope || r.scope, a.state, formatTime(a.since), formatAlarmValue(r.type, a.value), ...tail]);
}

/** One row per alarm (a rule with none yet: one "ok" row), then a line per broker on its rules. */
export async function alarmList(ctx: AdminContext, o: { clusterName?: string; brokerAddr?: string }): Promise<void> {
  const rows: string[][] = [];
  const notes: string[] = [];
  const failures: string[] = [];
  for (const addr of await brokersToAsk(ctx, o)) {
    let body: AlarmListBody;
    try {
      body = jsonBody<AlarmListBody>(await ctx.api.brokerOk(addr, GET_ALARM_LIST), 'alarm list');
    } catch (err) {
      failures.push(`${addr}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    const who = `${body.brokerName} (${addr})`;
    if (!body.enabled) {
      notes.push(`${who}: alarms are off (alarmEvaluateIntervalMs=0)`);
      continue;
    }
    for (const r of body.rules) rows.push(...ruleRows(body.brokerName, r));
    notes.push(`${who}: rules from ${body.source}, loaded ${formatTime(body.loadedAt)}, evaluated every ${formatDuration(body.evaluateIntervalMs)}, last at ${formatTime(body.lastEvaluatedAt)}`);
    if (body.reloadError) {
      notes.push(`${who}: a change of ${body.source} was refused at ${formatTime(body.reloadError.at)} and the rules before it stay in force: ${body.reloadError.message}`);
    }
  }
  ctx.out(formatTable(['Broker', 'Rule', 'Type', 'Scope', 'State', 'Since', 'Value', 'Threshold', 'For'], rows));
  for (const n of notes) ctx.out(`${n}\n`);
  if (failures.length > 0) throw new Error(`no alarm list from ${failures.join('; ')}`);
}
