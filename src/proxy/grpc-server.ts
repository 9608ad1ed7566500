// The gRPC v2 MessagingService over a ProxyBackend: a broker in the same process ("local"
// mode) or brokers reached over remoting ("cluster" mode, `apogee proxy`).
import { createServer as createNetServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { silentLogger, type Logger } from '../common/logger.js';
import { ServerTlsMaterial, sniffTls, type ServerTlsConfig } from '../remoting/index.js';
import type { ProxyBackend } from './backend/proxy-backend.js';
import { ClientManager } from './client-manager.js';
import { Code, OK_STATUS, ProxyError } from './grpc-code.js';
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
}

export interface GrpcProxyHandle {
  address: string;
  context: ProxyContext;
  /** Sees every call from now on (contract in grpc-hooks.ts); returns a function that removes it. */
  addHook(hook: GrpcHook): () => void;
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

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
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    // channelz (gRPC's introspection service) is not served here; its per-call bookkeeping is pure cost.
    'grpc.enable_channelz': 0,
    // Hooks last (outermost): they see what handlers write, before batches are expanded.
    interceptors: [responseBatchInterceptor(new Set([RECEIVE_MESSAGE_PATH])), hooks.interceptor()],
  });
  server.addService(loadMessagingService(), handlers(ctx));
  const host = opts.host ?? '0.0.0.0';
  const tls = opts.tls && opts.tls.mode !== 'disabled' ? await listenWithTls(server, host, opts.port, opts.tls, ctx.logger) : undefined;
  const port =
    tls?.port ??
    (await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    }));
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
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweeper);
        tls?.close();
        const t = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(t);
          closeLite(ctx).then(resolve, (err: unknown) => {
            ctx.logger.error({ err }, 'lite state save failed at close');
            resolve();
          });
        });
      }),
  };
}

/**
 * TLS on: our own listener reads each connection's first byte and injects the socket into the gRPC
 * server with TLS credentials (0x16) or, in permissive mode, plain ones; enforcing closes plain
 * connections. New certificates (files changed) go to connections accepted from then on.
 */
async function listenWithTls(server: grpc.Server, host: string, port: number, config: ServerTlsConfig, logger: Logger): Promise<{ port: number; close(): void }> {
  const material = new ServerTlsMaterial(config);
  const credentials = (): grpc.ServerCredentials => {
    const o = material.options;
    return grpc.ServerCredentials.createSsl(o.ca ? (o.ca as Buffer) : null, [{ cert_chain: o.cert as Buffer, private_key: o.key as Buffer }], config.needClientAuth === true);
  };
  let secure = server.createConnectionInjector(credentials());
  const old: grpc.ConnectionInjector[] = [];
  material.onChange(() => {
    old.push(secure);
    secure = server.createConnectionInjector(credentials());
    logger.info({ cert: config.certPath }, 'gRPC TLS certificate reloaded');
  });
  material.watch((message) => logger.error({ cause: message }, 'TLS files changed but cannot be loaded; the previous certificate stays'));
  const plain = config.mode === 'permissive' ? server.createConnectionInjector(grpc.ServerCredentials.createInsecure()) : undefined;
  const pending = new Set<import('node:net').Socket>();
  const listener = createNetServer((socket) => {
    pending.add(socket);
    socket.once('close', () => pending.delete(socket));
    sniffTls(socket, 10_000, (isTls) => {
      pending.delete(socket);
      if (isTls) secure.injectConnection(socket);
      else if (plain) plain.injectConnection(socket);
      else {
        logger.warn({ peer: `${socket.remoteAddress}:${socket.remotePort}` }, 'plain gRPC connection refused: tlsServerMode=enforcing accepts TLS only');
        socket.destroy();
      }
    });
  });
  const bound = await new Promise<number>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(port, host, () => {
      const a = listener.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
  return {
    port: bound,
    close: () => {
      material.close();
      listener.close();
      for (const s of pending) s.destroy();
      for (const inj of [secure, ...old, ...(plain ? [plain] : [])]) inj.destroy();
    },
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
