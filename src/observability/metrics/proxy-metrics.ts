// gRPC-side metrics: rocketmq_rpc_latency for every call of the v2 endpoint (in a broker process and
// in `apogee proxy`), and for a proxy process of its own the messages that went through it plus
// rocketmq_proxy_up (ProxyMetricsConstant).
//
// The hook is written against the shape of the endpoint's GrpcHook (src/proxy/grpc-hooks.ts) without
// importing it: observability sits below the proxy. The v2 Code names come from the caller.
import { Gauge, type Registry } from 'prom-client';
import { bool, isRetryOrDlqTopic, isSystemGroup, isSystemTopic, snakeCase } from './labels.js';
import type { RpcMetrics } from './rpc-metrics.js';
import { SeriesCounter } from './series.js';

export interface GrpcCallView {
  readonly method: string;
}

export interface GrpcOutcomeView {
  readonly grpcCode: number;
  readonly status?: { readonly code?: number };
}

export interface GrpcMetricsHook {
  /** Absent when nothing needs the request (rpc latency alone): the call hooks then skip every message. */
  before?(ctx: GrpcCallView, request: unknown): undefined;
  /** The call hooks' `afterMs`: elapsed milliseconds as a number. */
  afterMs(ctx: GrpcCallView, outcome: GrpcOutcomeView, elapsedMs: number): void;
}

/** apache.rocketmq.v2.Code.OK */
const V2_OK = 20000;
const GRPC_CANCELLED = 1;
const GRPC_STATUS = ['ok', 'cancelled', 'unknown', 'invalid_argument', 'deadline_exceeded', 'not_found', 'already_exists', 'permission_denied', 'resource_exhausted', 'failed_precondition', 'aborted', 'out_of_range', 'unimplemented', 'internal', 'unavailable', 'data_loss', 'unauthenticated'];
/** Calls that wait for messages when none is ready (the client's long polling). */
const LONG_POLLING = new Set(['ReceiveMessage']);
/** v2 MessageType numbers (definition.proto) to RocketMQ's message_type label. */
const MESSAGE_TYPES: Record<number, string> = { 1: 'normal', 2: 'fifo', 3: 'delay', 4: 'transaction' };

interface PbResource {
  name?: string;
}
interface SendRequestView {
  messages?: { topic?: PbResource; body?: Buffer; systemProperties?: { messageType?: number } }[];
}
interface AckRequestView {
  group?: PbResource;
  topic?: PbResource;
  entries?: unknown[];
}

type Pending = { kind: 'send'; items: { topic: string; type: string; bytes: number }[] } | { kind: 'ack'; group: string; topic: string; count: number };

/**
 * Labels of a call's outcome: the v2 Status the call answered with when it sent one (most calls do,
 * with gRPC OK), else the gRPC status.
 */
function responseLabel(outcome: GrpcOutcomeView, codeName: (v2: number) => string): string {
  const code = outcome.status?.code;
  if (code !== undefined && code !== 0) return codeName(code);
  return GRPC_STATUS[outcome.grpcCode] ?? 'unknown';
}

/** rocketmq_rpc_latency for every gRPC call; `extra` also sees each call (the proxy's message counts). */
export function grpcRpcHook(rpc: RpcMetrics, codeName: (v2: number) => string, extra?: GrpcMetricsHook): GrpcMetricsHook {
  const methods = new Map<string, string>();
  const before = extra?.before;
  return {
    before: before ? (ctx, request) => before(ctx, request) : undefined,
    afterMs: (ctx, outcome, elapsedMs) => {
      let method = methods.get(ctx.method);
      if (method === undefined) {
        method = snakeCase(ctx.method);
        methods.set(ctx.method, method);
      }
      rpc.observeGrpc(method, responseLabel(outcome, codeName), outcome.grpcCode === GRPC_CANCELLED ? 'cancelled' : 'success', LONG_POLLING.has(ctx.method), elapsedMs);
      extra?.afterMs(ctx, outcome, elapsedMs);
    },
  };
}

/** Messages in and out through a proxy process of its own (cluster mode). */
export class ProxyMetrics {
  readonly messagesIn: SeriesCounter;
  readonly throughputIn: SeriesCounter;
  readonly messagesOut: SeriesCounter;
  private readonly pending = new WeakMap<GrpcCallView, Pending>();

  constructor(registry: Registry, proxyMode: string) {
    const inLabels = ['topic', 'message_type', 'is_system'];
    this.messagesIn = new SeriesCounter('rocketmq_messages_in_total', 'Messages sent through this proxy (SendMessage calls answered OK)', inLabels, registry);
    this.throughputIn = new SeriesCounter('rocketmq_throughput_in_total', 'Message body bytes sent through this proxy', inLabels, registry);
    this.messagesOut = new SeriesCounter(
      'rocketmq_messages_out_total',
      'Messages consumed through this proxy (AckMessage entries of calls answered OK)',
      ['topic', 'consumer_group', 'is_system'],
      registry,
    );
    new Gauge({ name: 'rocketmq_proxy_up', help: 'The proxy is serving (1 while it runs)', labelNames: ['proxy_mode'], registers: [registry] }).set({ proxy_mode: proxyMode }, 1);
  }

  readonly hook: GrpcMetricsHook = {
    before: (ctx, request) => {
      if (ctx.method === 'SendMessage') this.pending.set(ctx, { kind: 'send', items: sendItems(request as SendRequestView) });
      else if (ctx.method === 'AckMessage') {
        const r = request as AckRequestView;
        this.pending.set(ctx, { kind: 'ack', group: r.group?.name ?? '', topic: r.topic?.name ?? '', count: r.entries?.length ?? 0 });
      }
      return undefined;
    },
    afterMs: (ctx, outcome) => {
      const p = this.pending.get(ctx);
      if (p === undefined) return;
      this.pending.delete(ctx);
      if ((outcome.status?.code ?? V2_OK) !== V2_OK || outcome.grpcCode !== 0) return;
      if (p.kind === 'send') {
        for (const it of p.items) {
          const key = `${it.topic}\u0001${it.type}`;
          const labels = (): Record<string, string> => ({ topic: it.topic, message_type: it.type, is_system: bool(isSystemTopic(it.topic)) });
          this.messagesIn.series(key, labels).value++;
          this.throughputIn.series(key, labels).value += it.bytes;
        }
      } else if (p.count > 0 && !isRetryOrDlqTopic(p.topic)) {
        const labels = (): Record<string, string> => ({ topic: p.topic, consumer_group: p.group, is_system: bool(isSystemTopic(p.topic) || isSystemGroup(p.group)) });
        this.messagesOut.series(`${p.group}\u0001${p.topic}`, labels).value += p.count;
      }
    },
  };
}

function sendItems(r: SendRequestView): { topic: string; type: string; bytes: number }[] {
  return (r.messages ?? []).map((m) => ({
    topic: m.topic?.name ?? '',
    type: MESSAGE_TYPES[m.systemProperties?.messageType ?? 1] ?? 'normal',
    bytes: m.body?.length ?? 0,
  }));
}
