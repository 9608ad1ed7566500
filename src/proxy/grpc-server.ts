// The gRPC v2 MessagingService over a ProxyBackend: a broker in the same process ("local"
// mode) or brokers reached over remoting ("cluster" mode, `apogee proxy`).
import * as grpc from '@grpc/grpc-js';
import { silentLogger, type Logger } from '../common/logger.js';
import type { ServerTlsConfig } from '../remoting/index.js';
import type { ProxyBackend } from './backend/proxy-backend.js';
import { ClientManager } from './client-manager.js';
import { Code, OK_STATUS, ProxyError } from './grpc-code.js';
import { DEFAULT_EDGE, GrpcEdge, grpcServerOptions, RequestTimeouts, type GrpcEdgeOptions, type GrpcEdgeStats } from './grpc-edge.js';
import { unary } from './grpc-handler.js';
import { GrpcHooks, type GrpcHook } from './grpc-hooks.js';
import { getOffset, pullMessage, queryOffset, updateOffset } from './offset-activity.js';
import { loadMessagingService, RECEIVE_MESSAGE_PATH } from './proto.js';
import type { ProxyContext } from './proxy-context.js';
import { ackMessage, changeInvisibleDuration, forwardToDeadLetterQueue, receiveMessage } from './receive-activity.js';
import { queryAssignment, queryRoute } from './route-activity.js';
import { sendMessage } from './send-activity.js';
import { responseBatchInterceptor } from './response-batch.js';
import { recoverOrphanedTransaction, telemetry } from './telemetry-activity.js';
import { endTransaction } from './transaction-activity.js';
import { closeLite, liteClientGone, syncLiteSubscription, warmLite } from './lite-activity.js';

export interface GrpcProxyOptions {
  host?: string;
  port: number;
  logger?: Logger;
  /** Minimum invisible time of a receive (RocketMQ: 10 s). */
  minInvisibleTimeMsForReceive?: number;
  /** Longest receive long poll, announced to push consumers in their settings (RocketMQ: 20 s). */
  maxLongPollingTimeoutMs?: number;
  /** Hooks present from the first call on (more can be added with the handle's addHook). */
  hooks?: readonly GrpcHook[];
  /** TLS with tlsServerMode (permissive: TLS and plain on the one port); absent or disabled = plain. */
  tls?: ServerTlsConfig;
  /** Connection, stream, size and time limits (grpc-edge.ts; grpcEdgeOf maps the config keys); absent = the keys' defaults. */
  edge?: GrpcEdgeOptions;
}

export interface GrpcProxyHandle {
  address: string;
  context: ProxyContext;
  /** Sees every call from now on (contract in grpc-hooks.ts); returns a function that removes it. */
  addHook(hook: GrpcHook): () => void;
  /** Connections refused, slow readers cut and calls timed out since start. */
  readonly edgeStats: GrpcEdgeStats;
  /** Open connections from one remote address. */
  connectionsFrom(address: string): number;
  close(): Promise<void>;
}

/** Server-streaming methods that answer with a ResponseBatch; their unread responses count against grpcMaxPendingWriteBytes. */
const STREAMED_RESPONSES: ReadonlySet<string> = new Set([RECEIVE_MESSAGE_PATH, '/apache.rocketmq.v2.MessagingService/PullMessage']);

/** Serves MessagingService over any backend; closing the handle does not close the backend. */
export async function startGrpcServer(backend: ProxyBackend, opts: GrpcProxyOptions): Promise<GrpcProxyHandle> {
  const ctx: ProxyContext = {
    backend,
    clients: new ClientManager(),
    logger: opts.logger ?? silentLogger,
    transactions: new Map(),
    minInvisibleTimeMsForReceive: opts.minInvisibleTimeMsForReceive ?? 10_000,
    maxLongPollingTimeoutMs: opts.maxLongPollingTimeoutMs ?? 20_000,
  };
  const hooks = new GrpcHooks(ctx.logger);
  for (const h of opts.hooks ?? []) hooks.add(h);
  backend.setClientAlive((id) => ctx.clients.isAlive(id));
  backend.onTransactionCheck((m, topic, brokerName) => recoverOrphanedTransaction(ctx, m, topic, brokerName));
  warmLite(ctx);
  const edgeOpts = opts.edge ?? DEFAULT_EDGE;
  const edge = new GrpcEdge(edgeOpts, ctx.logger);
  // The unary time limit lives in the handler wrapper (grpc-handler.ts): no interceptor layer per call.
  const timeouts = new RequestTimeouts(edgeOpts.requestTimeoutMs ?? 0, edge.stats, ctx.logger);
  ctx.timeouts = timeouts;
  const server = new grpc.Server({
    ...grpcServerOptions(edgeOpts),
    // channelz (gRPC's introspection service) is not served here; its per-call bookkeeping is pure cost.
    'grpc.enable_channelz': 0,
    // Innermost the unread-bytes count (it sees each message of an expanded batch); hooks after the
    // batches (they see what handlers write, the time limit's answer included). Unary calls pass the
    // first two unchanged and get one layer at most: the hooks', which also sends their OK status
    // with the answer (unary-trailers.ts).
    interceptors: [edge.pendingWriteInterceptor(STREAMED_RESPONSES), responseBatchInterceptor(STREAMED_RESPONSES), hooks.interceptor({ unaryTrailers: true })],
  });
  server.addService(loadMessagingService(), handlers(ctx));
  const host = opts.host ?? '0.0.0.0';
  let port: number;
  try {
    port = await edge.listen(server, host, opts.port, opts.tls);
  } catch (err) {
    edge.close();
    timeouts.close();
    server.forceShutdown();
    throw err;
  }
  const sweeper = setInterval(() => {
    ctx.clients.expire();
    const now = Date.now();
    for (const [id, t] of ctx.transactions) if (t.expires < now) ctx.transactions.delete(id);
  }, 30_000);
  sweeper.unref();
  const connectHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    address: `${connectHost}:${port}`,
    context: ctx,
    addHook: (hook) => hooks.add(hook),
    edgeStats: edge.stats,
    connectionsFrom: (a) => edge.connectionsFrom(a),
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweeper);
        timeouts.close();
        edge.stopAccepting();
        // End the open Telemetry streams with an OK status first: a 5.x client that is shutting
        // down has already dropped its listeners from its stream (TelemetrySession.release), so
        // a stream left open until forceShutdown resets it surfaces there as an uncaught error.
        for (const c of ctx.clients.values()) {
          const stream = c.telemetry;
          if (stream === undefined) continue;
          c.telemetry = undefined;
          try {
            stream.end();
          } catch {
            // Already ended by the client's half-close.
          }
        }
        const finish = (): void => {
          edge.close();
          closeLite(ctx).then(resolve, (err: unknown) => {
            ctx.logger.error({ err }, 'lite state save failed at close');
            resolve();
          });
        };
        const t = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(t);
          void edge.drained(1000).then(finish);
        });
      }),
  };
}

function handlers(ctx: ProxyContext): grpc.UntypedServiceImplementation {
  return {
    QueryRoute: unary(ctx, 'QueryRoute', (req: any) => queryRoute(ctx, req) as any),
    Heartbeat: unary(ctx, 'Heartbeat', async (req: { group?: { name?: string }; clientType?: number }, clientId) => {
      if (!clientId) throw new ProxyError(Code.CLIENT_ID_REQUIRED, 'x-mq-client-id metadata is required');
      const c = ctx.clients.touch(clientId);
      if (req.clientType) c.clientType = req.clientType;
      if (req.group?.name) {
        c.group = req.group.name;
        if (!(await ctx.backend.getGroupConfig(req.group.name))) {
          throw new ProxyError(Code.CONSUMER_GROUP_NOT_FOUND, `consumer group ${req.group.name} not found`);
        }
      }
      return { status: OK_STATUS };
    }),
    SendMessage: unary(ctx, 'SendMessage', (req: any, _id, call) => sendMessage(ctx, req, call.getPeer()) as any),
    QueryAssignment: unary(ctx, 'QueryAssignment', (req: any) => queryAssignment(ctx, req) as any),
    ReceiveMessage: receiveMessage(ctx),
    AckMessage: unary(ctx, 'AckMessage', (req: any) => ackMessage(ctx, req) as any),
    ForwardMessageToDeadLetterQueue: unary(ctx, 'ForwardMessageToDeadLetterQueue', (req: any) => forwardToDeadLetterQueue(ctx, req) as any),
    PullMessage: pullMessage(ctx),
    UpdateOffset: unary(ctx, 'UpdateOffset', (req: any) => updateOffset(ctx, req) as any),
    GetOffset: unary(ctx, 'GetOffset', (req: any) => getOffset(ctx, req) as any),
    QueryOffset: unary(ctx, 'QueryOffset', (req: any) => queryOffset(ctx, req) as any),
    EndTransaction: unary(ctx, 'EndTransaction', (req: any) => endTransaction(ctx, req) as any),
    Telemetry: telemetry(ctx),
    NotifyClientTermination: unary(ctx, 'NotifyClientTermination', (_req: unknown, clientId) => {
      ctx.clients.remove(clientId);
      liteClientGone(ctx, clientId);
      return { status: OK_STATUS };
    }),
    ChangeInvisibleDuration: unary(ctx, 'ChangeInvisibleDuration', (req: any) => changeInvisibleDuration(ctx, req) as any),
    RecallMessage: unary(ctx, 'RecallMessage', async (req: { topic?: { name?: string }; recallHandle?: string }) => {
      const messageId = await ctx.backend.recallMessage(req.topic?.name ?? '', req.recallHandle ?? '');
      return { status: OK_STATUS, messageId };
    }),
    SyncLiteSubscription: unary(ctx, 'SyncLiteSubscription', (req: any, clientId) => syncLiteSubscription(ctx, req, clientId) as any),
  };
}
