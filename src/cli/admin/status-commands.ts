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

/** Every broker the name server knows, with its version and put/get rates (first window: 10 s). */
export async function clusterList(ctx: AdminContext): Promise<void> {
  const info = await ctx.api.clusterInfo();
  const rows: (string | number)[][] = [];
  for (const cluster of Object.keys(info.clusterAddrTable).sort()) {
    for (const name of [...info.clusterAddrTable[cluster]].sort()) {
      const bd = info.brokerAddrTable[name];
      if (!bd) continue;
      for (const id of Object.keys(bd.brokerAddrs).sort((a, b) => Number(a) - Number(b))) {
        const addr = bd.brokerAddrs[id];
        let table: Record<string, string> = {};
        try {
          table = await runtimeTable(ctx, addr);
        } catch {
          // a broker that does not answer is still listed; its figures stay blank
        }
        const first = (s: string | undefined): string => s?.split(' ')[0] ?? '-';
        rows.push([cluster, name, id, addr, table.brokerVersionDesc ?? '-', first(table.putTps), first(table.getTransferedTps), table.msgPutTotalTodayNow ?? '-', table.msgGetTotalTodayNow ?? '-']);
      }
    }
  }
  ctx.out(formatTable(['Cluster Name', 'Broker Name', 'BID', 'Addr', 'Version', 'InTPS', 'OutTPS', 'InTotal', 'OutTotal'], rows));
}
