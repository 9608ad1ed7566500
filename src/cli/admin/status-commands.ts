// clusterList, brokerStatus.
import { RequestCode } from '../../remoting/index.js';
import { jsonBody } from './admin-api.js';
import { targetOf, type AdminContext } from './admin-context.js';
import { formatTable } from './table.js';

async function runtimeTable(ctx: AdminContext, addr: string): Promise<Record<string, string>> {
  const r = await ctx.api.brokerOk(addr, RequestCode.GET_BROKER_RUNTIME_INFO);
  return jsonBody<{ table?: Record<string, string> }>(r, 'runtime info').table ?? {};
}

/** mqadmin brokerStatus: one "key : value" line per runtime entry, sorted by key. */
export async function brokerStatus(ctx: AdminContext, o: { clusterName?: string; brokerAddr?: string }): Promise<void> {
  const t = targetOf(o);
  const addrs = 'broker' in t ? [t.broker] : (await ctx.api.masterAddrsOfCluster(t.cluster)).map((b) => b.addr);
  for (const addr of addrs) {
    const table = await runtimeTable(ctx, addr);
    const width = Math.max(...Object.keys(table).map((k) => k.length));
    const prefix = addrs.length > 1 || 'cluster' in t ? `${addr}  ` : '';
    for (const k of Object.keys(table).sort()) ctx.out(`${prefix}${k.padEnd(width)} : ${table[k]}\n`);
  }
}

/** GET_BROKER_HA_STATUS: a broker's replication as it sees it (src/broker/processor/ha-status-processor.ts). */
export interface HaStatusView {
  master: boolean;
  epoch: number;
  masterCommitLogMaxOffset: number;
  syncStateSet: number[];
  haConnectionInfo: { brokerId: number; addr: string; slaveAckOffset: number; diff: number; inSync: boolean }[];
  haClientRuntimeInfo?: { masterAddr: string; maxOffset: number; isActivated: boolean };
}

async function haStatus(ctx: AdminContext, addr: string): Promise<HaStatusView | undefined> {
  try {
    return jsonBody<HaStatusView>(await ctx.api.brokerOk(addr, RequestCode.GET_BROKER_HA_STATUS), 'HA status');
  } catch {
    return undefined;
  }
}

/**
 * Every broker the name server knows, with its version and put/get rates (first window: 10 s),
 * and its part in replication: role, epoch, commit-log end and how far it is behind its master.
 */
export async function clusterList(ctx: AdminContext): Promise<void> {
  const info = await ctx.api.clusterInfo();
  const rows: (string | number)[][] = [];
  for (const cluster of Object.keys(info.clusterAddrTable).sort()) {
    for (const name of [...info.clusterAddrTable[cluster]].sort()) {
      const bd = info.brokerAddrTable[name];
      if (!bd) continue;
      const ids = Object.keys(bd.brokerAddrs).sort((a, b) => Number(a) - Number(b));
      const statuses = await Promise.all(ids.map((id) => haStatus(ctx, bd.brokerAddrs[id])));
      const masterMax = statuses.find((st) => st?.master)?.masterCommitLogMaxOffset;
      for (const [i, id] of ids.entries()) {
        const addr = bd.brokerAddrs[id];
        let table: Record<string, string> = {};
        try {
          table = await runtimeTable(ctx, addr);
        } catch {
          // a broker that does not answer is still listed; its figures stay blank
        }
        const first = (s: string | undefined): string => s?.split(' ')[0] ?? '-';
        const ha = statuses[i];
        const lag = !ha || ha.master || masterMax === undefined ? (ha?.master ? 0 : '-') : Math.max(0, masterMax - ha.masterCommitLogMaxOffset);
        rows.push([
          cluster,
          name,
          id,
          addr,
          table.brokerVersionDesc ?? '-',
          first(table.putTps),
          first(table.getTransferedTps),
          table.msgPutTotalTodayNow ?? '-',
          table.msgGetTotalTodayNow ?? '-',
          ha ? (ha.master ? 'MASTER' : 'SLAVE') : '-',
          ha ? ha.epoch : '-',
          ha ? ha.masterCommitLogMaxOffset : '-',
          lag,
        ]);
      }
    }
  }
  ctx.out(formatTable(['Cluster Name', 'Broker Name', 'BID', 'Addr', 'Version', 'InTPS', 'OutTPS', 'InTotal', 'OutTotal', 'Role', 'Epoch', 'MaxOffset', 'LagBytes'], rows));
}

/** mqadmin getSyncStateSet: the in-sync set of a broker group, from its master, with each member's position. */
export async function getSyncStateSet(ctx: AdminContext, o: { brokerName?: string }): Promise<void> {
  const info = await ctx.api.clusterInfo();
  const bd = info.brokerAddrTable[o.brokerName ?? ''];
  if (!bd) throw new Error(`broker group ${o.brokerName} is not registered with the name servers`);
  const addrs = Object.values(bd.brokerAddrs);
  const statuses = await Promise.all(addrs.map((a) => haStatus(ctx, a)));
  const mi = statuses.findIndex((st) => st?.master);
  if (mi < 0) throw new Error(`broker group ${o.brokerName} has no master answering now`);
  const m = statuses[mi]!;
  ctx.out(`#brokerName ${o.brokerName}  #masterAddr ${addrs[mi]}  #epoch ${m.epoch}  #masterOffset ${m.masterCommitLogMaxOffset}\n`);
  ctx.out(`#syncStateSet ${m.syncStateSet.join(',')}\n`);
  const rows = m.haConnectionInfo.map((c) => [c.brokerId, c.addr, c.inSync ? 'true' : 'false', c.slaveAckOffset, c.diff]);
  ctx.out(formatTable(['BrokerId', 'Addr', 'InSync', 'AckOffset', 'DiffBytes'], rows));
}
