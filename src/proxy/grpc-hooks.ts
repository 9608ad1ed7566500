// Hooks on every gRPC call of the v2 endpoint, unary and streaming alike, through one grpc-js server
// interceptor (public API): where ACL, trace and metrics attach on the 5.x side.
//
// Contract:
// - `before` runs for each request message, in registration order, with the call's metadata
//   (`authorization`, `x-mq-date-time`, `x-mq-client-id`, ...) and the decoded request: once for
//   unary and server-streaming calls, once per command on Telemetry. It is synchronous, as on the
//   remoting server. It needs the message because RocketMQ checks permissions per resource (the
//   topic or group named in the request), and the Java proxy runs its auth pipeline per message too.
// - A refusal answers as the Java proxy does: an apache.rocketmq.v2.Status with the given code
//   (UNAUTHORIZED, FORBIDDEN, ...) inside the method's response, gRPC status OK. Every v2 response
//   type has that `status` field, and the 5.x clients turn it into a typed error carrying the code.
//   Unary and server-streaming calls end right after that one response and the handler never runs;
//   on Telemetry the refused command is dropped, a TelemetryCommand with the status is written and
//   the stream stays open (Java does the same). Throwing a ProxyError refuses with its code, a
//   BrokerError with its code mapped to v2; any other thrown error refuses with
//   INTERNAL_SERVER_ERROR (fail closed) and is logged.
// - `after` runs once per call when it ends, with the gRPC status code, the last v2 Status the call
//   sent (the one that says what happened), how many messages were refused, and the elapsed time.
//   A call ended by the transport (client cancel, deadline, broken connection, a response that
//   could not be encoded) reports CANCELLED. Errors thrown by `after` are logged and ignored.
// - `afterMs` is `after` with the elapsed time as a number of milliseconds (no BigInt made for a hook
//   that only needs a duration, such as metrics); `startNs` is computed only when read.
// - With no hook registered the interceptor hands grpc-js the call unchanged: no wrapper at all
//   (but for the early OK of unary answers, below, when asked for).
// - `interceptor({ unaryTrailers: true })` also hands a unary call's OK status down right after its
//   answer (unary-trailers.ts says why): one layer per call does both, rather than two.
// The module's own reference: the global `performance` is a lazy getter run on every access.
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import { BrokerError } from '../remoting/index.js';
import { Code, codeFromRemoting, ProxyError, status as makeStatus, type Status } from './grpc-code.js';
import { ResponseBatch } from './response-batch.js';
import { UNARY_OK, unaryTrailersCall } from './unary-trailers.js';

export interface GrpcCallContext {
  /** Method name, e.g. "SendMessage". */
  readonly method: string;
  /** Full path, e.g. "/apache.rocketmq.v2.MessagingService/SendMessage". */
  readonly path: string;
  /** The request metadata; always received before `before` runs. */
  readonly metadata: grpc.Metadata;
  /** "ip:port" of the client as grpc-js reports it. */
  readonly peer: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  /** process.hrtime.bigint() when the call started. */
  readonly startNs: bigint;
}

/** What a `before` hook returns to refuse a request: an apache.rocketmq.v2 Code and a message naming the cause. */
export interface GrpcRefusal {
  code: number;
  message: string;
}

export interface GrpcCallOutcome {
  /** gRPC status of the call; v2 errors usually travel as OK with a Status in the response. */
  grpcCode: number;
  details: string;
  /** The last apache.rocketmq.v2 Status sent in a response, if any. */
  status?: Status;
  /** Request messages refused by a `before` hook. */
  refused: number;
}

export interface GrpcHook {
  /** The same context object is passed to `after`, so a hook may key its own state on it. */
  before?(ctx: GrpcCallContext, request: unknown): GrpcRefusal | undefined | void;
  after?(ctx: GrpcCallContext, outcome: GrpcCallOutcome, elapsedNs: bigint): void;
  /** As `after`, with the elapsed time in milliseconds (fractional); runs right after this hook's `after`. */
  afterMs?(ctx: GrpcCallContext, outcome: GrpcCallOutcome, elapsedMs: number): void;
}

/** process.hrtime.bigint() at performance.now() = 0, so that startNs can be derived from startMs. */
const HRTIME_AT_ZERO_MS = process.hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6));

/** What ctx.metadata is until the call's metadata arrives (always before `before`; a call cancelled earlier keeps it). */
const NO_METADATA = new grpc.Metadata();

class CallContext implements GrpcCallContext {
  metadata = NO_METADATA;
  constructor(
    readonly method: string,
    readonly path: string,
    // Read at the start: grpc-js answers "unknown" once the stream is gone (a cancelled call's `after`).
    readonly peer: string,
    readonly requestStream: boolean,
    readonly responseStream: boolean,
    /** performance.now() when the call started. */
    readonly startMs: number,
  ) {}

  get startNs(): bigint {
    return HRTIME_AT_ZERO_MS + BigInt(Math.round(this.startMs * 1e6));
  }
}

const noop = (): void => {};

function statusIn(m: unknown): Status | undefined {
  if (m === null || typeof m !== 'object' || Buffer.isBuffer(m)) return undefined;
  return (m as { status?: Status }).status ?? undefined;
}

/** The v2 Status carried by a response (or by one of a batch's responses: receive puts it first). */
function statusOf(message: unknown): Status | undefined {
  if (!(message instanceof ResponseBatch)) return statusIn(message);
  for (const r of message.responses) {
    const s = statusIn(r);
    if (s) return s;
  }
  return undefined;
}

interface CallState {
  ctx: CallContext;
  status?: Status;
  refused: number;
  /** A unary or server-streaming call answered by a refusal: nothing more goes to the handler. */
  closed: boolean;
  finished: boolean;
  /** A unary call whose OK status went down right after its answer: the handler's own is not passed on. */
  statusSent: boolean;
}

export class GrpcHooks {
  private hooks: GrpcHook[] = [];
  /** Method name by path, so that no string is sliced per call. */
  private readonly methodNames = new Map<string, string>();

  constructor(private readonly logger: Logger) {}

  get size(): number {
    return this.hooks.length;
  }

  /** Adds a hook after the others, for calls that start from now on; the returned function removes it. */
  add(hook: GrpcHook): () => void {
    this.hooks = [...this.hooks, hook];
    return () => {
      this.hooks = this.hooks.filter((h) => h !== hook);
    };
  }

  /** The server interceptor; put it last in `interceptors` so it sees what handlers write (batches included). */
  interceptor(opts: { unaryTrailers?: boolean } = {}): grpc.ServerInterceptor {
    const early = opts.unaryTrailers === true;
    return (method, call) => {
      const unaryCall = early && !method.requestStream && !method.responseStream;
      if (this.hooks.length > 0) return this.hookedCall(method, call, unaryCall);
      // grpc-js only uses the call interface of what an interceptor returns.
      return unaryCall ? unaryTrailersCall(call) : (call as grpc.ServerInterceptingCall);
    };
  }

  private hookedCall(method: grpc.ServerMethodDefinition<unknown, unknown>, call: grpc.ServerInterceptingCallInterface, earlyStatus: boolean): grpc.ServerInterceptingCall {
    const hooks = this.hooks;
    let name = this.methodNames.get(method.path);
    if (name === undefined) this.methodNames.set(method.path, (name = method.path.slice(method.path.lastIndexOf('/') + 1)));
    // Hooks without `before` (metrics) leave the request messages to grpc-js's own pass-through.
    const seeMessages = hooks.some((h) => h.before !== undefined);
    const st: CallState = {
      ctx: new CallContext(name, method.path, call.getPeer(), method.requestStream, method.responseStream, performance.now()),
      refused: 0,
      closed: false,
      finished: false,
      statusSent: false,
    };
    const self: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (md, nextMd) => {
            st.ctx.metadata = md;
            nextMd(md);
          },
          onReceiveMessage: seeMessages
            ? (msg, nextMsg) => {
                if (st.closed) return;
                const refusal = this.runBefore(hooks, st.ctx, msg);
                if (refusal === undefined) nextMsg(msg);
                else this.refuse(st, self, call, refusal);
              }
            : undefined,
          onReceiveHalfClose: seeMessages
            ? (nextHalfClose) => {
                if (!st.closed) nextHalfClose();
              }
            : undefined,
          onCancel: () => this.finish(hooks, st, grpc.status.CANCELLED, 'cancelled'),
        }),
      sendMessage: (msg, nextMsg) => {
        const s = statusOf(msg);
        if (s) st.status = s;
        nextMsg(msg);
        if (earlyStatus && !st.statusSent) {
          st.statusSent = true;
          call.sendStatus(UNARY_OK);
        }
      },
      sendStatus: (status, nextStatus) => {
        // After an early OK this is the handler's own OK, once its answer is written: `after` runs
        // now (its elapsed time still covers the write), the status itself has gone.
        this.finish(hooks, st, status.code, status.details ?? '');
        if (st.statusSent) return;
        nextStatus(status);
      },
    });
    return self;
  }

  private refuse(st: CallState, self: grpc.ServerInterceptingCall, call: grpc.ServerInterceptingCallInterface, refusal: GrpcRefusal): void {
    st.refused++;
    const response = { status: makeStatus(refusal.code, refusal.message) };
    if (st.ctx.requestStream) {
      self.sendMessage(response, noop);
      // The handler's stream asked for a message and will not ask again until it gets one.
      call.startRead();
      return;
    }
    st.closed = true;
    self.sendMessage(response, () => self.sendStatus({ code: grpc.status.OK, details: 'OK' }));
  }

  private runBefore(hooks: readonly GrpcHook[], ctx: GrpcCallContext, request: unknown): GrpcRefusal | undefined {
    for (const h of hooks) {
      if (!h.before) continue;
      try {
        const r = h.before(ctx, request);
        if (r) return r;
      } catch (err) {
        if (err instanceof ProxyError) return { code: err.code, message: err.message };
        if (err instanceof BrokerError) return { code: codeFromRemoting(err.code), message: err.remark };
        this.logger.error({ err, rpc: ctx.method, peer: ctx.peer }, 'gRPC request hook failed');
        const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
        return { code: Code.INTERNAL_SERVER_ERROR, message: `${ctx.method} refused: a request hook failed: ${msg}` };
      }
    }
    return undefined;
  }

  private finish(hooks: readonly GrpcHook[], st: CallState, grpcCode: number, details: string): void {
    if (st.finished) return;
    st.finished = true;
    const elapsedMs = performance.now() - st.ctx.startMs;
    const elapsedNs = hooks.some((h) => h.after !== undefined) ? BigInt(Math.round(elapsedMs * 1e6)) : 0n;
    const outcome: GrpcCallOutcome = { grpcCode, details, status: st.status, refused: st.refused };
    for (const h of hooks) {
      try {
        if (h.after) h.after(st.ctx, outcome, elapsedNs);
        if (h.afterMs) h.afterMs(st.ctx, outcome, elapsedMs);
      } catch (err) {
        this.logger.error({ err, rpc: st.ctx.method }, 'gRPC response hook failed');
      }
    }
  }
}
