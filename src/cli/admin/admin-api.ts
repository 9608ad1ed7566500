// The requests `apogee admin` sends, over one RemotingClient: name-server lookups (cluster info,
// routes, topic list) and broker admin codes. A non-success answer becomes AdminRequestError,
// which the command prints with the broker's code and remark.
import { bodyOf, createRequest, RemotingClient, RequestCode, responseCodeName, ResponseCode, signRequest, type ExtInput, type RemotingCommand } from '../../remoting/index.js';

import type { ConnectionOptions } from 'node:tls';
import type { ClusterInfo, TopicRouteData } from '../../remoting/protocol/route.js';

export type { BrokerData, ClusterInfo, TopicRouteData } from '../../remoting/protocol/route.js';

/** A request answered with a code other than SUCCESS. */
export class AdminRequestError extends Error {
  constructor(
    readonly code: number,
    readonly remark: string,
    readonly addr: string,
  ) {
    super(`${responseCodeName(code)}(${code}) ${remark} [${addr}]`);
    this.name = 'AdminRequestError';
  }
}

/** Something the user asked for that does not exist (unknown cluster, broker, ...). */
export class AdminLookupError extends Error {
  override name = 'AdminLookupError';
}

export class AdminApi {
  private readonly client: RemotingClient;
  private readonly namesrvs: string[];

  /** With credentials every request is signed (brokers with aclEnable; admin codes need an admin account). */
  constructor(
    namesrvAddr: string,
    private readonly timeoutMs = 5000,
    credentials?: { accessKey: string; secretKey: string },
    /** TLS to name servers and brokers alike (node:tls options; absent = plain TCP). */
    tls?: ConnectionOptions,
  ) {
    const rpcHook = credentials
      ? (cmd: RemotingCommand) => signRequest(cmd.extFields, Buffer.isBuffer(cmd.body) ? cmd.body : undefined, credentials.accessKey, credentials.secretKey)
      : undefined;
    this.client = new RemotingClient({ connectTimeoutMs: 3000, rpcHook, tls });
    this.namesrvs = namesrvAddr
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean);
  }

  /** The first name server that answers; connection failures move on to the next. */
  async namesrv(code: number, ext?: ExtInput, body?: Buffer): Promise<RemotingCommand> {
    let last: unknown;
    for (const addr of this.namesrvs) {
      try {
        return await this.client.invoke(addr, createRequest(code, ext, body), this.timeoutMs);
      } catch (err) {
        last = err;
      }
    }
    throw new Error(`no name server answered (${this.namesrvs.join(';')}): ${(last as Error | undefined)?.message ?? 'none given'}`);
  }

  async namesrvOk(code: number, ext?: ExtInput, body?: Buffer): Promise<RemotingCommand> {
    const r = await this.namesrv(code, ext, body);
    if (r.code !== ResponseCode.SUCCESS) throw new AdminRequestError(r.code, r.remark ?? '', 'namesrv');
    return r;
  }

  invoke(addr: string, code: number, ext?: ExtInput, body?: Buffer): Promise<RemotingCommand> {
    return this.client.invoke(addr, createRequest(code, ext, body), this.timeoutMs);
  }

  async brokerOk(addr: string, code: number, ext?: ExtInput, body?: Buffer): Promise<RemotingCommand> {
    const r = await this.invoke(addr, code, ext, body);
    if (r.code !== ResponseCode.SUCCESS) throw new AdminRequestError(r.code, r.remark ?? '', addr);
    return r;
  }

  async clusterInfo(): Promise<ClusterInfo> {
    const info = jsonBody<Partial<ClusterInfo>>(await this.namesrvOk(RequestCode.GET_BROKER_CLUSTER_INFO), 'cluster info');
    return { brokerAddrTable: info.brokerAddrTable ?? {}, clusterAddrTable: info.clusterAddrTable ?? {} };
  }

  /** Master addresses of every broker group of the cluster. */
  async masterAddrsOfCluster(cluster: string): Promise<{ brokerName: string; addr: string }[]> {
    const info = await this.clusterInfo();
    const names = info.clusterAddrTable[cluster];
    if (!names) {
      const known = Object.keys(info.clusterAddrTable).join(', ') || 'none';
      throw new AdminLookupError(`cluster ${cluster} is not registered in the name server (known: ${known})`);
    }
    const out: { brokerName: string; addr: string }[] = [];
    for (const name of [...names].sort()) {
      const addr = info.brokerAddrTable[name]?.brokerAddrs['0'];
      if (addr) out.push({ brokerName: name, addr });
    }
    if (out.length === 0) throw new AdminLookupError(`cluster ${cluster} has no master broker online`);
    return out;
  }

  /** The topic's route; AdminRequestError(TOPIC_NOT_EXIST) when the name server has none. */
  async route(topic: string): Promise<TopicRouteData> {
    const r = jsonBody<Partial<TopicRouteData>>(await this.namesrvOk(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }), 'topic route');
    return { ...r, queueDatas: r.queueDatas ?? [], brokerDatas: r.brokerDatas ?? [] };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

export function jsonBody<T>(r: RemotingCommand, what: string): T {
  try {
    return JSON.parse(bodyOf(r).toString('utf8')) as T;
  } catch (err) {
    throw new Error(`cannot parse the ${what} body as JSON: ${(err as Error).message}`, { cause: err });
  }
}
