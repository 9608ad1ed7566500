// 5.x (gRPC) clients of a broker's in-process endpoint, answered over remoting so a console on
// another machine sees them too. The broker's own client tables only hold remoting clients, so
// without this the console would call 5.x consumers "not online" (rocketmq-dashboard's most
// reported complaint, operations-facts §7). Apogee's own request code, like GET_ALARM_LIST.
// A separate `apogee proxy` has its 5.x clients too: it reports them to every master with
// REPORT_GRPC_CLIENTS, as RocketMQ's proxy makes its gRPC consumers known to the brokers by
// heartbeats, and each broker answers them with its own until the report expires.
import type { Logger } from '../common/logger.js';
import { bodyOf, createRequest, createResponse, RequestCode, ResponseCode, type RemotingCommand, type RemotingServer } from '../remoting/index.js';
import { ClientType, type ClientManager } from '../proxy/client-manager.js';

export const GET_GRPC_CLIENT_LIST = 880160;
/** A proxy's 5.x clients, sent to a broker: body GrpcClientReport. */
export const REPORT_GRPC_CLIENTS = 880161;

/** apache.rocketmq.v2.Language by number, as the remoting LanguageCode names them. */
const LANGUAGES = ['OTHER', 'JAVA', 'CPP', 'DOTNET', 'GOLANG', 'RUST', 'PYTHON', 'PHP', 'NODE_JS', 'RUBY', 'OTHER', 'OTHER', 'OTHER'];
const TYPES: Record<number, string> = {
  [ClientType.PRODUCER]: 'producer',
  [ClientType.PUSH_CONSUMER]: 'push consumer',
  [ClientType.SIMPLE_CONSUMER]: 'simple consumer',
  [ClientType.PULL_CONSUMER]: 'pull consumer',
};

export interface GrpcClientRow {
  clientId: string;
  clientType: string;
  /** Consumer group; empty for producers. */
  group: string;
  topics: string[];
  language: string;
  version: string;
  hostname: string;
  lastSeen: number;
  /** The `apogee proxy` the client is connected to; absent for the broker's own endpoint. */
  proxy?: string;
}

export interface GrpcClientReport {
  /** Stable for the proxy's life: a new report replaces its previous one. */
  proxy: string;
  /** The broker drops the report this long after it arrived unless a new one comes. */
  ttlMs: number;
  clients: GrpcClientRow[];
}

export interface GrpcClientListBody {
  clients: GrpcClientRow[];
}

export function grpcClientRows(clients: Pick<ClientManager, 'values' | 'isAlive'>): GrpcClientRow[] {
  const out: GrpcClientRow[] = [];
  for (const c of clients.values()) {
    if (!c.clientType || !clients.isAlive(c.clientId)) continue;
    const ua = c.settings?.userAgent;
    out.push({
      clientId: c.clientId,
      clientType: TYPES[c.clientType] ?? 'unknown',
      group: c.group ?? '',
      topics: [...c.topics].sort(),
      language: LANGUAGES[ua?.language ?? 0] ?? 'OTHER',
      version: ua?.version ?? '',
      hostname: ua?.hostname ?? '',
      lastSeen: c.lastSeen,
    });
  }
  return out;
}

/** Bounds on what proxies may make a broker hold. */
const MAX_PROXIES = 256;
const MAX_REPORTED_CLIENTS = 100_000;
const MAX_TTL_MS = 300_000;

/** The reports of proxies at one broker, each until it expires (read lazily, no timer). */
export class ReportedGrpcClients {
  private readonly reports = new Map<string, { until: number; clients: GrpcClientRow[] }>();

  /** Takes a report body; a problem is returned as a sentence (the request's remark). */
  accept(body: Buffer | undefined, now = Date.now()): string | undefined {
    let r: Partial<GrpcClientReport>;
    try {
      r = JSON.parse(body?.toString('utf8') ?? '') as Partial<GrpcClientReport>;
    } catch {
      return 'REPORT_GRPC_CLIENTS: the body is not JSON';
    }
    if (typeof r.proxy !== 'string' || r.proxy === '' || r.proxy.length > 255) return 'REPORT_GRPC_CLIENTS: "proxy" must be a non-empty string of at most 255 characters';
    if (typeof r.ttlMs !== 'number' || !(r.ttlMs > 0 && r.ttlMs <= MAX_TTL_MS)) return `REPORT_GRPC_CLIENTS: "ttlMs" must be a number in (0, ${MAX_TTL_MS}]`;
    if (!Array.isArray(r.clients) || r.clients.length > MAX_REPORTED_CLIENTS) return `REPORT_GRPC_CLIENTS: "clients" must be a list of at most ${MAX_REPORTED_CLIENTS}`;
    const bad = r.clients.findIndex((c: Partial<GrpcClientRow> | null) => typeof c?.clientId !== 'string' || typeof c.group !== 'string' || typeof c.clientType !== 'string');
    if (bad >= 0) return `REPORT_GRPC_CLIENTS: clients[${bad}] lacks clientId, group or clientType`;
    this.expire(now);
    if (!this.reports.has(r.proxy) && this.reports.size >= MAX_PROXIES) return `REPORT_GRPC_CLIENTS: this broker holds the reports of ${MAX_PROXIES} proxies already`;
    const proxy = r.proxy;
    this.reports.set(proxy, { until: now + r.ttlMs, clients: r.clients.map((c) => ({ ...c, topics: Array.isArray(c.topics) ? c.topics : [], proxy })) });
    return undefined;
  }

  rows(now = Date.now()): GrpcClientRow[] {
    this.expire(now);
    return [...this.reports.values()].flatMap((r) => r.clients);
  }

  private expire(now: number): void {
    for (const [k, r] of this.reports) if (r.until <= now) this.reports.delete(k);
  }
}

/**
 * Serves GET_GRPC_CLIENT_LIST on the broker's remoting server, from its own gRPC endpoint's clients
 * (when it runs one) and those proxies report with REPORT_GRPC_CLIENTS.
 */
export function serveGrpcClientList(server: Pick<RemotingServer, 'registerProcessor'>, clients: Pick<ClientManager, 'values' | 'isAlive'> | undefined): ReportedGrpcClients {
  const reported = new ReportedGrpcClients();
  server.registerProcessor(GET_GRPC_CLIENT_LIST, (): RemotingCommand => {
    const body: GrpcClientListBody = { clients: [...(clients ? grpcClientRows(clients) : []), ...reported.rows()] };
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify(body)));
  });
  server.registerProcessor(REPORT_GRPC_CLIENTS, (req: RemotingCommand): RemotingCommand => {
    const problem = reported.accept(Buffer.isBuffer(req.body) ? req.body : undefined);
    return problem ? createResponse(ResponseCode.INVALID_PARAMETER, problem) : createResponse(ResponseCode.SUCCESS);
  });
  return reported;
}

/** What a reporter needs of the proxy's remoting side (RemoteBackend.api: signed like its other requests). */
export interface ReporterApi {
  invokeNamesrv(code: number): Promise<RemotingCommand>;
  readonly remoting: { invoke(addr: string, cmd: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> };
  readonly timeoutMs: number;
}

export interface GrpcClientReporterOptions {
  api: ReporterApi;
  clients: Pick<ClientManager, 'values' | 'isAlive'>;
  /** The proxy in reports, unique in the cluster (its remoting client id and gRPC address). */
  proxy: string;
  logger: Logger;
  /** How often the client set is looked at; a change is reported at once (1 s). */
  checkMs?: number;
  /** A report is sent at least this often, changed or not (10 s); brokers keep one 3 times as long. */
  everyMs?: number;
}

/**
 * `apogee proxy`'s side: reports its 5.x clients to every master the name servers list, when the
 * set changes and every few seconds; an empty report on stop, so they leave the console at once.
 */
export function startGrpcClientReporter(o: GrpcClientReporterOptions): { stop(): Promise<void> } {
  const checkMs = o.checkMs ?? 1000;
  const everyMs = o.everyMs ?? 10_000;
  let lastKey = '';
  let lastSent = 0;
  let running: Promise<void> | undefined;
  const send = async (rows: GrpcClientRow[]): Promise<void> => {
    const info = JSON.parse(bodyOf(await o.api.invokeNamesrv(RequestCode.GET_BROKER_CLUSTER_INFO)).toString('utf8')) as { brokerAddrTable?: Record<string, { brokerAddrs?: Record<string, string> }> };
    const masters = Object.values(info.brokerAddrTable ?? {})
      .map((b) => b.brokerAddrs?.['0'])
      .filter((a): a is string => !!a);
    const body = Buffer.from(JSON.stringify({ proxy: o.proxy, ttlMs: everyMs * 3, clients: rows } satisfies GrpcClientReport));
    await Promise.all(
      masters.map(async (addr) => {
        const r = await o.api.remoting.invoke(addr, createRequest(REPORT_GRPC_CLIENTS, undefined, body), o.api.timeoutMs);
        // A broker without the request (older, or not Apogee) cannot show them; nothing to retry.
        if (r.code !== ResponseCode.SUCCESS && r.code !== ResponseCode.REQUEST_CODE_NOT_SUPPORTED) o.logger.warn({ addr, code: r.code, remark: r.remark }, 'a broker refused the 5.x client report');
      }),
    );
  };
  const tick = (): void => {
    if (running) return;
    const rows = grpcClientRows(o.clients);
    const key = rows.map((r) => `${r.clientId}/${r.group}/${r.clientType}`).sort().join(',');
    const now = Date.now();
    if (key === lastKey && now - lastSent < everyMs) return;
    running = send(rows)
      .then(() => {
        lastKey = key;
        lastSent = now;
      })
      .catch((err: unknown) => o.logger.warn({ err }, 'reporting the 5.x clients to the brokers failed; retried within a second'))
      .finally(() => (running = undefined));
  };
  const timer = setInterval(tick, checkMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
      if (lastKey !== '') await send([]).catch(() => undefined);
    },
  };
}
