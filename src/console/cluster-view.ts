// What the console shows of a cluster, read over remoting exactly as `apogee admin` reads it:
// name server first (cluster info, routes), then each broker's admin requests. Nothing here
// holds broker objects, so the same code serves `apogee standalone` and `apogee console -n`.
import { AdminClient, allocateMessageQueueAveragely, MQBrokerError, PermName, type ClusterInfo, type MessageQueue } from '../client/index.js';
import { MixAll } from '../common/message-const.js';
import type { Logger } from '../common/logger.js';
import { bodyOf, createRequest, RequestCode, ResponseCode, type RemotingCommand } from '../remoting/index.js';
import { GET_ALARM_LIST, type AlarmListBody } from '../observability/alarms/alarm-status.js';
import { badRequest, ConsoleError, notAvailable, notFound, toConsoleError } from './console-error.js';
import { GET_GRPC_CLIENT_LIST, type GrpcClientListBody, type GrpcClientRow } from './grpc-client-list.js';

export interface Page<T> {
  total: number;
  page: number;
  size: number;
  items: T[];
}

export function paginate<T>(all: readonly T[], page: number, size: number): Page<T> {
  const start = (page - 1) * size;
  return { total: all.length, page, size, items: all.slice(start, start + size) };
}

interface TopicConfigJson {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  order: boolean;
  topicSysFlag?: number;
  attributes?: Record<string, string>;
}

export interface TopicRow {
  topic: string;
  kind: 'normal' | 'retry' | 'dlq' | 'system';
  messageType: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: string;
  order: boolean;
  brokers: string[];
}

export interface GroupRow {
  group: string;
  consumeEnable: boolean;
  orderly: boolean;
  retryMaxTimes: number;
  broadcast: boolean;
  brokers: string[];
  /** Filled for the rows of the page asked for. */
  totalLag?: number;
  online?: number;
  protocols?: string[];
}

export interface ClientRow {
  clientId: string;
  addr: string;
  protocol: 'remoting' | 'grpc';
  language: string;
  version: string;
  clientType?: string;
}

export const MESSAGE_TYPES = ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION'] as const;

const SYSTEM_PREFIXES = ['rmq_sys_', 'RMQ_SYS_', 'SCHEDULE_TOPIC_XXXX', 'TBW102', 'SELF_TEST_TOPIC', 'OFFSET_MOVED_EVENT', 'BenchmarkTest', 'TRANS_CHECK_MAX_TIME_TOPIC'];

export function topicKind(topic: string, clusterAndBrokerNames: ReadonlySet<string>): TopicRow['kind'] {
  if (topic.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX)) return 'retry';
  if (topic.startsWith(MixAll.DLQ_GROUP_TOPIC_PREFIX)) return 'dlq';
  if (clusterAndBrokerNames.has(topic) || SYSTEM_PREFIXES.some((p) => topic.startsWith(p))) return 'system';
  return 'normal';
}

export function permString(perm: number): string {
  return `${perm & PermName.PERM_READ ? 'R' : '-'}${perm & PermName.PERM_WRITE ? 'W' : '-'}`;
}

/** Code-unit order: names are ASCII, and localeCompare costs 3x on 10,000 topics. */
export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * How long the merged topic and group tables are reused as they are, and how much longer a
 * reused table is answered at once while a fresh one is fetched behind it. Paging through 10,000
 * topics must not fetch every broker's whole table per page (rocketmq-dashboard's fix for #281
 * was a cache too); a change made through this console drops them at once, one made elsewhere
 * shows within seconds, and a first visit after a quiet minute fetches before answering.
 */
const TABLE_FRESH_MS = 2000;
const TABLE_STALE_MS = 15_000;

/** One value reused while fresh, answered while stale as a fresh one loads; one fetch at a time. */
export class Cached<T> {
  private value: { at: number; v: T } | undefined;
  private loading: Promise<T> | undefined;
  private gen = 0;
  constructor(
    private readonly freshMs: number,
    private readonly staleMs: number,
  ) {}

  get(load: () => Promise<T>, now = Date.now()): Promise<T> {
    const age = this.value ? now - this.value.at : Infinity;
    if (this.value && age < this.freshMs) return Promise.resolve(this.value.v);
    const p = this.reload(load);
    if (this.value && age < this.staleMs) {
      p.catch(() => undefined);
      return Promise.resolve(this.value.v);
    }
    return p;
  }

  private reload(load: () => Promise<T>): Promise<T> {
    if (this.loading) return this.loading;
    // A load that began before a drop() (a write) must not store what it read before the write.
    const gen = this.gen;
    const p = load()
      .then((v) => {
        if (gen === this.gen) this.value = { at: Date.now(), v };
        return v;
      })
      .finally(() => {
        if (this.loading === p) this.loading = undefined;
      });
    this.loading = p;
    return p;
  }

  drop(): void {
    this.gen++;
    this.value = undefined;
    this.loading = undefined;
  }
}

/** The first number of a runtime entry such as putTps "1.00 2.00 3.00". */
const firstNumber = (s: string | undefined): number => (s ? Number(s.split(' ')[0]) || 0 : 0);

export class ClusterView {
  readonly admin: AdminClient;
  readonly namesrvs: string[];
  private readonly topicCache = new Cached<TopicRow[]>(TABLE_FRESH_MS, TABLE_STALE_MS);
  private readonly groupCache = new Cached<GroupRow[]>(TABLE_FRESH_MS, TABLE_STALE_MS);

  constructor(
    namesrvAddr: string,
    private readonly logger: Logger,
    /** ACL signing of every request (console-acl.ts). */
    rpcHook?: (cmd: RemotingCommand) => void,
  ) {
    this.admin = new AdminClient({ namesrvAddr, requestTimeoutMs: 5000, logger, rpcHook });
    this.namesrvs = this.admin.api.namesrvAddrs;
  }

  close(): Promise<void> {
    return this.admin.shutdown();
  }

  // ---- cluster ----

  clusterInfo(): Promise<ClusterInfo> {
    return this.admin.clusterList();
  }

  /** Every master: brokerName → address. */
  async masters(): Promise<{ brokerName: string; addr: string; cluster: string }[]> {
    const info = await this.clusterInfo();
    const out: { brokerName: string; addr: string; cluster: string }[] = [];
    for (const [cluster, names] of Object.entries(info.clusterAddrTable)) {
      for (const name of [...names].sort()) {
        const addr = info.brokerAddrTable[name]?.brokerAddrs['0'];
        if (addr) out.push({ brokerName: name, addr, cluster });
      }
    }
    return out;
  }

  /** Every broker (masters and slaves). */
  async allBrokers(): Promise<{ brokerName: string; brokerId: number; addr: string; cluster: string }[]> {
    const info = await this.clusterInfo();
    const out: { brokerName: string; brokerId: number; addr: string; cluster: string }[] = [];
    for (const [cluster, names] of Object.entries(info.clusterAddrTable)) {
      for (const name of [...names].sort()) {
        const addrs = info.brokerAddrTable[name]?.brokerAddrs ?? {};
        for (const id of Object.keys(addrs).sort((a, b) => Number(a) - Number(b))) out.push({ brokerName: name, brokerId: Number(id), addr: addrs[id], cluster });
      }
    }
    return out;
  }

  private async json<T>(addr: string, code: number, ext?: Record<string, string | number | boolean | undefined>): Promise<T> {
    const r = await this.admin.api.invokeOk(addr, code, ext as never);
    return JSON.parse(bodyOf(r).toString('utf8')) as T;
  }

  private async runtime(addr: string): Promise<Record<string, string>> {
    return (await this.json<{ table?: Record<string, string> }>(addr, RequestCode.GET_BROKER_RUNTIME_INFO)).table ?? {};
  }

  private async haStatus(addr: string): Promise<{ master: boolean; epoch: number; masterCommitLogMaxOffset: number; syncStateSet?: number[] } | undefined> {
    try {
      return await this.json(addr, RequestCode.GET_BROKER_HA_STATUS);
    } catch {
      return undefined;
    }
  }

  /** Name servers (each asked once), broker groups and their members with role, HA position and rates. */
  async cluster(): Promise<unknown> {
    const namesrvs = await Promise.all(
      this.namesrvs.map(async (addr) => {
        const t0 = Date.now();
        try {
          const r = await this.admin.api.remoting.invoke(addr, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO), 3000);
          return { addr, ok: r.code === ResponseCode.SUCCESS, latencyMs: Date.now() - t0 };
        } catch (err) {
          return { addr, ok: false, error: (err as Error).message.split('\n')[0] };
        }
      }),
    );
    const brokers = await this.allBrokers();
    const members = await Promise.all(brokers.map((b) => this.member(b)));
    const byGroup = new Map<string, { cluster: string; brokerName: string; members: typeof members }>();
    for (const m of members) {
      const key = `${m.cluster}/${m.brokerName}`;
      let g = byGroup.get(key);
      if (!g) byGroup.set(key, (g = { cluster: m.cluster, brokerName: m.brokerName, members: [] }));
      g.members.push(m);
    }
    for (const g of byGroup.values()) {
      const masterMax = g.members.find((m) => m.role === 'MASTER')?.commitLogMaxOffset;
      for (const m of g.members) {
        if (m.role === 'SLAVE' && masterMax !== undefined && m.commitLogMaxOffset !== undefined) m.lagBytes = Math.max(0, masterMax - m.commitLogMaxOffset);
        if (m.role === 'MASTER') m.lagBytes = 0;
      }
    }
    return { namesrvs, groups: [...byGroup.values()] };
  }

  private async member(b: { brokerName: string; brokerId: number; addr: string; cluster: string }) {
    const row: {
      cluster: string;
      brokerName: string;
      brokerId: number;
      addr: string;
      role: string;
      version?: string;
      epoch?: number;
      commitLogMaxOffset?: number;
      commitLogBytes?: number;
      diskFull?: boolean;
      writeBlocked?: string;
      lagBytes?: number;
      putTps?: number;
      getTps?: number;
      putTotal?: number;
      getTotal?: number;
      uptime?: string;
      error?: string;
    } = { cluster: b.cluster, brokerName: b.brokerName, brokerId: b.brokerId, addr: b.addr, role: b.brokerId === 0 ? 'MASTER' : 'SLAVE' };
    const [rt, ha] = await Promise.all([this.runtime(b.addr).catch((err: unknown) => err as Error), this.haStatus(b.addr)]);
    if (rt instanceof Error) {
      row.error = toConsoleError(rt).message;
    } else {
      row.version = rt.brokerVersionDesc;
      row.commitLogMaxOffset = Number(rt.commitLogMaxOffset) || 0;
      row.commitLogBytes = Math.max(0, row.commitLogMaxOffset - (Number(rt.commitLogMinOffset) || 0));
      row.diskFull = rt.diskFull === 'true';
      row.writeBlocked = rt.writeBlocked || undefined;
      row.putTps = firstNumber(rt.putTps);
      row.getTps = firstNumber(rt.getTransferedTps);
      row.putTotal = Number(rt.msgPutTotalTodayNow) || 0;
      row.getTotal = Number(rt.msgGetTotalTodayNow) || 0;
      row.uptime = rt.runtime;
    }
    if (ha) {
      row.role = ha.master ? 'MASTER' : 'SLAVE';
      row.epoch = ha.epoch;
      row.commitLogMaxOffset = ha.masterCommitLogMaxOffset;
    }
    return row;
  }

  /** Sum of every master's put and get totals: what the TPS sampler differentiates. */
  async totals(): Promise<{ put: number; get: number }> {
    let put = 0;
    let get = 0;
    for (const m of await this.masters()) {
      const rt = await this.runtime(m.addr);
      put += Number(rt.msgPutTotalTodayNow) || 0;
      get += Number(rt.msgGetTotalTodayNow) || 0;
    }
    return { put, get };
  }

  // ---- topics ----

  /** Drops the reused tables: after an ACL login, what unsigned reads got before is not what the account sees. */
  forgetTables(): void {
    this.topicCache.drop();
    this.groupCache.drop();
  }

  /** Refreshes the reused tables behind the scenes (while someone uses the console), so pages answer from them. */
  warm(): void {
    this.topicTable().catch(() => undefined);
    this.groupTable().catch(() => undefined);
  }

  /** Every topic of every master, merged by name (queues as the first master holding it has them). */
  topicTable(): Promise<TopicRow[]> {
    return this.topicCache.get(() => this.loadTopicTable());
  }

  private async loadTopicTable(): Promise<TopicRow[]> {
    const masters = await this.masters();
    const names = new Set<string>(masters.flatMap((m) => [m.brokerName, m.cluster]));
    const rows = new Map<string, TopicRow>();
    const tables = await Promise.all(masters.map((m) => this.json<{ topicConfigTable?: Record<string, TopicConfigJson> }>(m.addr, RequestCode.GET_ALL_TOPIC_CONFIG)));
    for (const [i, t] of tables.entries()) {
      for (const tc of Object.values(t.topicConfigTable ?? {})) {
        const row = rows.get(tc.topicName);
        if (row) {
          row.brokers.push(masters[i].brokerName);
          continue;
        }
        rows.set(tc.topicName, {
          topic: tc.topicName,
          kind: topicKind(tc.topicName, names),
          messageType: tc.attributes?.['+message.type'] ?? tc.attributes?.['message.type'] ?? (tc.order ? 'FIFO' : 'NORMAL'),
          readQueueNums: tc.readQueueNums,
          writeQueueNums: tc.writeQueueNums,
          perm: permString(tc.perm),
          order: tc.order,
          brokers: [masters[i].brokerName],
        });
      }
    }
    return [...rows.values()].sort((a, b) => byText(a.topic, b.topic));
  }

  async topics(q: { filter?: string; kind?: string; page: number; size: number }): Promise<Page<TopicRow>> {
    const f = q.filter?.toLowerCase();
    const all = (await this.topicTable()).filter((t) => (!f || t.topic.toLowerCase().includes(f)) && (!q.kind || q.kind === 'all' || t.kind === q.kind));
    return paginate(all, q.page, q.size);
  }

  /** Route, per-broker config, per-queue offsets and the groups consuming it. */
  async topic(topic: string): Promise<unknown> {
    const route = await this.routeOrNotFound(topic);
    const brokers = await Promise.all(
      route.brokerDatas.map(async (bd) => {
        const addr = bd.brokerAddrs['0'];
        if (!addr) return { brokerName: bd.brokerName, error: 'no master online' };
        try {
          const [config, stats] = await Promise.all([
            this.json<TopicConfigJson>(addr, RequestCode.GET_TOPIC_CONFIG, { topic }),
            this.json<{ offsetTable: { queueId: number; minOffset: number; maxOffset: number; lastUpdateTimestamp: number }[] }>(addr, RequestCode.GET_TOPIC_STATS_INFO, { topic }),
          ]);
          return { brokerName: bd.brokerName, addr, config: { ...config, permString: permString(config.perm) }, queues: stats.offsetTable };
        } catch (err) {
          return { brokerName: bd.brokerName, addr, error: toConsoleError(err).message };
        }
      }),
    );
    const groups = new Set<string>();
    for (const b of brokers) {
      if (!('addr' in b) || !b.addr) continue;
      try {
        for (const g of (await this.json<{ groupList?: string[] }>(b.addr, RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic })).groupList ?? []) groups.add(g);
      } catch {
        // the groups are a convenience; the topic page stands without them
      }
    }
    return { topic, route, brokers, consumerGroups: [...groups].sort() };
  }

  async routeOrNotFound(topic: string) {
    try {
      return await this.admin.topicRoute(topic);
    } catch (err) {
      if (err instanceof MQBrokerError && err.code === ResponseCode.TOPIC_NOT_EXIST) throw notFound(`topic ${topic} has no route in the name server`);
      if (err instanceof Error && /no route info/.test(err.message)) throw notFound(`topic ${topic} has no route in the name server`);
      throw err;
    }
  }

  /** The cluster a write goes to: the one named, else the only one there is. */
  async clusterFor(cluster?: string): Promise<string> {
    const info = await this.clusterInfo();
    const known = Object.keys(info.clusterAddrTable).sort();
    if (cluster) {
      if (!info.clusterAddrTable[cluster]) throw notFound(`cluster ${cluster} is not registered in the name server (known: ${known.join(', ') || 'none'})`);
      return cluster;
    }
    if (known.length === 1) return known[0];
    if (known.length === 0) throw new ConsoleError(503, 'the name server lists no cluster: no broker is registered');
    throw badRequest(`several clusters are registered (${known.join(', ')}): name one with "cluster"`);
  }

  async upsertTopic(t: { topic: string; cluster?: string; readQueueNums: number; writeQueueNums: number; perm: number; order: boolean; messageType?: string }): Promise<{ cluster: string }> {
    const cluster = await this.clusterFor(t.cluster);
    const attributes = t.messageType ? { '+message.type': t.messageType } : undefined;
    this.topicCache.drop();
    await this.admin.createTopic(cluster, t.topic, { readQueueNums: t.readQueueNums, writeQueueNums: t.writeQueueNums, perm: t.perm, order: t.order, attributes });
    this.topicCache.drop();
    return { cluster };
  }

  async deleteTopic(topic: string, cluster?: string): Promise<{ cluster: string }> {
    await this.routeOrNotFound(topic);
    const c = await this.clusterFor(cluster);
    await this.admin.deleteTopic(c, topic);
    this.topicCache.drop();
    return { cluster: c };
  }

  // ---- consumer groups ----

  groupTable(): Promise<GroupRow[]> {
    return this.groupCache.get(() => this.loadGroupTable());
  }

  private async loadGroupTable(): Promise<GroupRow[]> {
    const masters = await this.masters();
    const rows = new Map<string, GroupRow>();
    const tables = await Promise.all(
      masters.map((m) => this.json<{ subscriptionGroupTable?: Record<string, { groupName: string; consumeEnable: boolean; consumeMessageOrderly: boolean; retryMaxTimes: number; consumeBroadcastEnable: boolean }> }>(m.addr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG)),
    );
    for (const [i, t] of tables.entries()) {
      for (const g of Object.values(t.subscriptionGroupTable ?? {})) {
        const row = rows.get(g.groupName);
        if (row) {
          row.brokers.push(masters[i].brokerName);
          continue;
        }
        rows.set(g.groupName, {
          group: g.groupName,
          consumeEnable: g.consumeEnable,
          orderly: g.consumeMessageOrderly,
          retryMaxTimes: g.retryMaxTimes,
          broadcast: g.consumeBroadcastEnable,
          brokers: [masters[i].brokerName],
        });
      }
    }
    return [...rows.values()].sort((a, b) => byText(a.group, b.group));
  }

  /** A group's row; a miss in the reused table is checked once more against the brokers (it may be new). */
  private async findGroup(group: string): Promise<GroupRow> {
    let row = (await this.groupTable()).find((g) => g.group === group);
    if (!row) {
      this.groupCache.drop();
      row = (await this.groupTable()).find((g) => g.group === group);
    }
    if (!row) throw notFound(`consumer group ${group} does not exist on any broker`);
    return { ...row, brokers: [...row.brokers] };
  }

  /** Groups of one page, each with its total lag and online clients (asked for those rows only). */
  async groups(q: { filter?: string; page: number; size: number }): Promise<Page<GroupRow>> {
    const f = q.filter?.toLowerCase();
    const page = paginate((await this.groupTable()).filter((g) => !f || g.group.toLowerCase().includes(f)), q.page, q.size);
    // The table is shared for a while: the page's rows get their figures on copies.
    page.items = page.items.map((g) => ({ ...g }));
    const masters = await this.masters();
    const grpc = await this.grpcClients(masters.map((m) => m.addr));
    await Promise.all(
      page.items.map(async (row) => {
        const stats = await this.consumeStats(row.group, masters);
        row.totalLag = stats.reduce((s, e) => s + Math.max(0, e.brokerOffset - e.consumerOffset), 0);
        const clients = await this.onlineClients(row.group, masters, grpc);
        row.online = clients.length;
        row.protocols = [...new Set(clients.map((c) => c.protocol))];
      }),
    );
    return page;
  }

  private async consumeStats(group: string, masters: { brokerName: string; addr: string }[], topic?: string) {
    const out: { topic: string; brokerName: string; queueId: number; brokerOffset: number; consumerOffset: number; lastTimestamp: number }[] = [];
    for (const m of masters) {
      try {
        const s = await this.json<{ offsetTable: typeof out }>(m.addr, RequestCode.GET_CONSUME_STATS, { consumerGroup: group, topic });
        out.push(...s.offsetTable);
      } catch (err) {
        if (err instanceof MQBrokerError && err.code === ResponseCode.TOPIC_NOT_EXIST) continue;
        throw err;
      }
    }
    return out;
  }

  /** Live 5.x clients of every broker asked; a broker without the request (older) has none to tell. */
  async grpcClients(addrs: string[]): Promise<GrpcClientRow[]> {
    const out: GrpcClientRow[] = [];
    await Promise.all(
      addrs.map(async (addr) => {
        try {
          out.push(...(await this.json<GrpcClientListBody>(addr, GET_GRPC_CLIENT_LIST)).clients);
        } catch (err) {
          if (!(err instanceof MQBrokerError && err.code === ResponseCode.REQUEST_CODE_NOT_SUPPORTED)) this.logger.debug({ err, addr }, 'gRPC client list failed');
        }
      }),
    );
    return out;
  }

  /** 4.x clients from GET_CONSUMER_CONNECTION_LIST plus 5.x ones, once each. */
  async onlineClients(group: string, masters: { addr: string }[], grpc: GrpcClientRow[]): Promise<ClientRow[]> {
    const seen = new Map<string, ClientRow>();
    for (const m of masters) {
      try {
        const c = await this.json<{ connectionSet: { clientId: string; clientAddr: string; language: string; version: number }[] }>(m.addr, RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: group });
        for (const x of c.connectionSet) seen.set(x.clientId, { clientId: x.clientId, addr: x.clientAddr, protocol: 'remoting', language: x.language, version: String(x.version) });
      } catch (err) {
        if (!(err instanceof MQBrokerError && err.code === ResponseCode.CONSUMER_NOT_ONLINE)) throw err;
      }
    }
    for (const g of grpc) {
      if (g.group !== group || g.clientType === 'producer') continue;
      seen.set(g.clientId, { clientId: g.clientId, addr: g.hostname, protocol: 'grpc', language: g.language, version: g.version, clientType: g.clientType });
    }
    return [...seen.values()].sort((a, b) => byText(a.clientId, b.clientId));
  }

  /** A group's config, per-queue progress with the client holding each queue, clients, retry and DLQ depth. */
  async group(group: string): Promise<unknown> {
    const row = await this.findGroup(group);
    const masters = await this.masters();
    const [stats, grpc] = await Promise.all([this.consumeStats(group, masters), this.grpcClients(masters.map((m) => m.addr))]);
    const clients = await this.onlineClients(group, masters, grpc);
    const owner = this.queueOwners(stats, clients);
    const queues = stats
      .sort((a, b) => byText(a.topic, b.topic) || byText(a.brokerName, b.brokerName) || a.queueId - b.queueId)
      .map((e) => ({ ...e, lag: Math.max(0, e.brokerOffset - e.consumerOffset), client: owner(e) }));
    const [retry, dlq] = await Promise.all([this.depth(MixAll.RETRY_GROUP_TOPIC_PREFIX + group), this.depth(MixAll.DLQ_GROUP_TOPIC_PREFIX + group)]);
    return { ...row, totalLag: queues.reduce((s, q) => s + q.lag, 0), queues, clients, retryMessages: retry, dlqMessages: dlq };
  }

  /**
   * Which client holds a queue. 4.x consumers split a topic's queues with the default averaging
   * strategy over sorted client ids; 5.x consumers pop from every queue, so they are named together.
   */
  private queueOwners(stats: { topic: string; brokerName: string; queueId: number }[], clients: ClientRow[]): (mq: MessageQueue) => string {
    const remoting = clients.filter((c) => c.protocol === 'remoting').map((c) => c.clientId).sort();
    const grpc = clients.filter((c) => c.protocol === 'grpc');
    const owners = new Map<string, string>();
    const byTopic = new Map<string, MessageQueue[]>();
    for (const s of stats) {
      if (s.topic.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX)) continue;
      const list = byTopic.get(s.topic) ?? [];
      list.push({ topic: s.topic, brokerName: s.brokerName, queueId: s.queueId });
      byTopic.set(s.topic, list);
    }
    for (const mqs of byTopic.values()) {
      mqs.sort((a, b) => byText(a.brokerName, b.brokerName) || a.queueId - b.queueId);
      for (const cid of remoting) for (const mq of allocateMessageQueueAveragely(cid, mqs, remoting)) owners.set(`${mq.topic}@${mq.brokerName}@${mq.queueId}`, cid);
    }
    const pop = grpc.length > 0 ? `${grpc.length} gRPC client${grpc.length > 1 ? 's' : ''} (pop)` : '';
    return (mq) => owners.get(`${mq.topic}@${mq.brokerName}@${mq.queueId}`) ?? pop;
  }

  /** Messages in a topic (sum of max - min over its queues); 0 when it does not exist. */
  async depth(topic: string): Promise<number> {
    let route;
    try {
      route = await this.admin.topicRoute(topic);
    } catch {
      return 0;
    }
    let n = 0;
    for (const bd of route.brokerDatas) {
      const addr = bd.brokerAddrs['0'];
      if (!addr) continue;
      try {
        const s = await this.json<{ offsetTable: { minOffset: number; maxOffset: number }[] }>(addr, RequestCode.GET_TOPIC_STATS_INFO, { topic });
        for (const q of s.offsetTable) n += Math.max(0, q.maxOffset - q.minOffset);
      } catch {
        // a broker without the topic adds nothing
      }
    }
    return n;
  }

  async upsertGroup(g: { group: string; cluster?: string; consumeEnable?: boolean; orderly?: boolean; retryMaxTimes?: number; broadcast?: boolean }): Promise<{ cluster: string }> {
    const cluster = await this.clusterFor(g.cluster);
    await this.admin.createSubscriptionGroup(cluster, {
      groupName: g.group,
      consumeEnable: g.consumeEnable,
      consumeMessageOrderly: g.orderly,
      retryMaxTimes: g.retryMaxTimes,
      consumeBroadcastEnable: g.broadcast,
    });
    this.groupCache.drop();
    return { cluster };
  }

  async deleteGroup(group: string, cluster?: string, removeOffsets = false): Promise<{ cluster: string }> {
    await this.findGroup(group);
    const c = await this.clusterFor(cluster);
    await this.admin.deleteSubscriptionGroup(c, group, removeOffsets);
    this.groupCache.drop();
    return { cluster: c };
  }

  /**
   * INVOKE_BROKER_TO_RESET_OFFSET on every master holding the topic: the broker moves the group's
   * offsets to the first message stored at or after timestamp and tells online consumers.
   */
  async resetOffset(group: string, topic: string, timestamp: number): Promise<{ queues: { brokerName: string; queueId: number; offset: number }[] }> {
    const route = await this.routeOrNotFound(topic);
    const queues: { brokerName: string; queueId: number; offset: number }[] = [];
    for (const bd of route.brokerDatas) {
      const addr = bd.brokerAddrs['0'];
      if (!addr) continue;
      const r = await this.admin.api.remoting.invoke(
        addr,
        createRequest(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic, group, timestamp, isForce: true }),
        10_000,
      );
      if (r.code === ResponseCode.REQUEST_CODE_NOT_SUPPORTED) throw notAvailable(`resetting offsets (${addr} does not answer INVOKE_BROKER_TO_RESET_OFFSET)`);
      if (r.code !== ResponseCode.SUCCESS) throw new MQBrokerError(r.code, r.remark ?? '', addr);
      const body = r.body && r.body.length > 0 ? (JSON.parse(r.body.toString('utf8')) as { offsetTable?: unknown }) : {};
      if (Array.isArray(body.offsetTable)) {
        for (const e of body.offsetTable as { brokerName?: string; queueId: number; offset: number }[]) queues.push({ brokerName: e.brokerName ?? bd.brokerName, queueId: e.queueId, offset: e.offset });
      }
    }
    return { queues };
  }

  // ---- alarms ----

  async alarms(): Promise<{ brokers: (AlarmListBody & { addr: string })[]; failures: { addr: string; error: string }[] }> {
    const brokers: (AlarmListBody & { addr: string })[] = [];
    const failures: { addr: string; error: string }[] = [];
    for (const b of await this.allBrokers()) {
      try {
        brokers.push({ ...(await this.json<AlarmListBody>(b.addr, GET_ALARM_LIST)), addr: b.addr });
      } catch (err) {
        failures.push({ addr: b.addr, error: toConsoleError(err).message });
      }
    }
    return { brokers, failures };
  }
}
