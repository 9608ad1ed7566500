// A grpc-js MessagingService that answers SendMessage with a constant OK and stores nothing: the
// baseline for the broker's gRPC send cost (what grpc-js and Node's HTTP/2 cost by themselves).
// Prints "ready <port>". Run as a child of grpc-floor-bench.ts and grpc-latency-baseline.ts.
//
// `--with a,b,...` adds the broker endpoint's pieces one at a time, so that the floor bench can
// price each (issue 17): without any, grpc-js with channelz off and bindAsync.
//   channelz   grpc-js's default: channelz on (per-call counters and timestamps)
//   options    the endpoint's server options of the default edge keys (streams, idle, keepalive)
//   injector   our own listener handing sockets to a grpc-js connection injector (GrpcEdge)
//   passthru   the interceptors that let unary calls through unchanged (pending writes, batches)
//   timeout    the unary time limit (serverRequestTimeoutMillis = 30 s, the default), kept by the
//              handler wrapper: only with unary
//   metrics    the call hooks with the metrics hook (rocketmq_rpc_latency), on by default
//   before     the call hooks with a `before` hook that refuses nothing (ACL's shape without the HMAC)
//   early      the OK status handed down right after a unary answer (src/proxy/unary-trailers.ts; by
//              the hooks' layer when there are hooks)
//   unary      the endpoint's handler wrapper (client id from metadata, client registry, Status on error)
//   endpoint   all of the above but channelz and before, wired as startGrpcServer wires them
//   interceptor-timeout  the unary time limit as an interceptor layer, as the endpoint had it before
//              (a copy kept here only to price it)
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { silentLogger } from '../../src/common/logger.js';
import { grpcMetricsHook } from '../../src/console/grpc-metrics.js';
import { RpcMetrics } from '../../src/observability/metrics/rpc-metrics.js';
import { ClientManager } from '../../src/proxy/client-manager.js';
import { DEFAULT_EDGE, GrpcEdge, grpcServerOptions, RequestTimeouts } from '../../src/proxy/grpc-edge.js';
import { unary } from '../../src/proxy/grpc-handler.js';
import { GrpcHooks } from '../../src/proxy/grpc-hooks.js';
import { loadMessagingService, RECEIVE_MESSAGE_PATH } from '../../src/proxy/proto.js';
import type { ProxyContext } from '../../src/proxy/proxy-context.js';
import { responseBatchInterceptor } from '../../src/proxy/response-batch.js';
import { unaryTrailersInterceptor } from '../../src/proxy/unary-trailers.js';

const FEATURES = ['channelz', 'options', 'injector', 'passthru', 'timeout', 'metrics', 'before', 'early', 'unary', 'endpoint', 'interceptor-timeout'] as const;
type Feature = (typeof FEATURES)[number];
const wi = process.argv.indexOf('--with');
const asked = wi >= 0 ? process.argv[wi + 1].split(',').filter(Boolean) : [];
for (const f of asked) if (!(FEATURES as readonly string[]).includes(f)) throw new Error(`--with: unknown feature ${f} (known: ${FEATURES.join(', ')})`);
const on = new Set<string>(asked.includes('endpoint') ? [...asked, 'options', 'injector', 'passthru', 'timeout', 'metrics', 'early', 'unary'] : asked);
const has = (f: Feature): boolean => on.has(f);

const streamed: ReadonlySet<string> = new Set([RECEIVE_MESSAGE_PATH]);
const edge = new GrpcEdge(DEFAULT_EDGE, silentLogger);
const timeouts = new RequestTimeouts(has('timeout') ? (DEFAULT_EDGE.requestTimeoutMs ?? 30_000) : 0, edge.stats, silentLogger);
if (has('timeout') && !has('unary')) throw new Error('--with timeout needs unary (the handler wrapper keeps the limit)');
const hooks = new GrpcHooks(silentLogger);
if (has('metrics')) hooks.add(grpcMetricsHook(new RpcMetrics(new Registry())));
if (has('before')) hooks.add({ before: () => undefined });
const hooked = has('metrics') || has('before');
const interceptors: grpc.ServerInterceptor[] = [];
if (has('early') && !hooked) interceptors.push(unaryTrailersInterceptor());
if (has('passthru')) interceptors.push(edge.pendingWriteInterceptor(streamed), responseBatchInterceptor(streamed));
if (hooked) interceptors.push(hooks.interceptor({ unaryTrailers: has('early') }));
if (has('interceptor-timeout')) interceptors.push(timeoutInterceptor());

/** The shape of the endpoint's former time-limit interceptor: a Set entry and one ServerInterceptingCall layer per unary call. */
function timeoutInterceptor(): grpc.ServerInterceptor {
  const open = new Set<object>();
  return (method, call) => {
    if (method.requestStream || method.responseStream) return call as grpc.ServerInterceptingCall;
    const t = { deadline: Date.now() + 30_000, path: method.path, call, done: false };
    open.add(t);
    const end = (): void => {
      open.delete(t);
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: end }),
      sendMessage: (message, next) => {
        if (t.done) return;
        end();
        next(message);
      },
      sendStatus: (status, next) => {
        end();
        if (!t.done) next(status);
      },
    });
  };
}

const server = new grpc.Server({
  ...(has('options') ? grpcServerOptions(DEFAULT_EDGE) : { 'grpc.max_receive_message_length': 16 << 20, 'grpc.max_send_message_length': 16 << 20 }),
  ...(has('channelz') ? {} : { 'grpc.enable_channelz': 0 }),
  ...(interceptors.length > 0 ? { interceptors } : {}),
});
const answer = { status: { code: 20000, message: 'OK' }, entries: [] };
const ctx = { clients: new ClientManager(), logger: silentLogger, timeouts: has('timeout') ? timeouts : undefined } as unknown as ProxyContext;
server.addService(loadMessagingService(), {
  SendMessage: has('unary') ? unary(ctx, 'SendMessage', () => answer) : (_call: unknown, cb: (err: null, res: unknown) => void) => cb(null, answer),
});
const ready = (port: number): void => console.log(`ready ${port}`);
if (has('injector')) {
  edge.listen(server, '127.0.0.1', 0, undefined).then(ready, (err: unknown) => {
    throw err;
  });
} else {
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    ready(port);
  });
}
process.on('SIGTERM', () => {
  timeouts.close();
  server.forceShutdown();
  edge.close();
});
