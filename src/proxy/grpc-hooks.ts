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

export class GrpcHooks {
  private set: HookSet = hookSet([]);
  /** Method name by path, so that no string is sliced per call. */
  private readonly methodNames = new Map<string, string>();

  constructor(private readonly logger: Logger) {}

  get size(): number {
    return this.set.hooks.length;
  }

  /** Adds a hook after the others, for calls that start from now on; the returned function removes it. */
  add(hook: GrpcHook): () => void {
    this.set = hookSet([...this.set.hooks, hook]);
    return () => {
      this.set = hookSet(this.set.hooks.filter((h) => h !== hook));
    };
  }

  /** The server interceptor; put it last in `interceptors` so it sees what handlers write (batches included). */
  interceptor(opts: { unaryTrailers?: boolean } = {}): grpc.ServerInterceptor {
    const early = opts.unaryTrailers === true;
    return (method, call) => {
      const unaryCall = early && !method.requestStream && !method.responseStream;
      if (this.set.hooks.length > 0) return this.hookedCall(method, call, unaryCall);
      // grpc-js only uses the call interface of what an interceptor returns.
      return unaryCall ? unaryTrailersCall(call) : (call as grpc.ServerInterceptingCall);
    };
  }

  private hookedCall(method: grpc.ServerMethodDefinition<unknown, unknown>, call: grpc.ServerInterceptingCallInterface, earlyStatus: boolean): grpc.ServerInterceptingCall {
    let name = this.methodNames.get(method.path);
    if (name === undefined) this.methodNames.set(method.path, (name = method.path.slice(method.path.lastIndexOf('/') + 1)));
    const ctx = new CallContext(name, method.path, call.getPeer(), method.requestStream, method.responseStream, performance.now());
    // grpc-js only uses the call interface of what an interceptor returns.
    return new HookedCall(this.set, this.logger, ctx, call, earlyStatus) as unknown as grpc.ServerInterceptingCall;
  }
}

/** What grpc-js's call below hands its events to (its InterceptingServerListener, not exported by the package). */
type UpListener = Parameters<grpc.ServerInterceptingCallInterface['start']>[0];

/** The hooks of calls that start now, and what they need of each call (worked out once per change). */
interface HookSet {
  readonly hooks: readonly GrpcHook[];
  /** Some hook has `before`: request messages go through the hooks (else straight to the handler). */
  readonly seeMessages: boolean;
  /** Some hook has `after` (wants the elapsed time as a BigInt). */
  readonly wantsNs: boolean;
}

function hookSet(hooks: readonly GrpcHook[]): HookSet {
  return { hooks, seeMessages: hooks.some((h) => h.before !== undefined), wantsNs: hooks.some((h) => h.after !== undefined) };
}

/**
 * One hooked call: the call interface grpc-js sees above it, and the listener the call below it
 * reports to. A class of its own rather than grpc-js's ServerInterceptingCall with a responder and a
 * listener of closures: that made a dozen objects and closures per call (issue 17), and all of them
 * only pass things on, synchronously, which this does with plain methods.
 */
class HookedCall implements grpc.ServerInterceptingCallInterface, UpListener {
  private up?: UpListener;
  private status?: Status;
  private refused = 0;
  /** A unary or server-streaming call answered by a refusal: nothing more goes to the handler. */
  private closed = false;
  private finished = false;
  /** A unary call whose OK status went down right after its answer: the handler's own is not passed on. */
  private statusSent = false;

  constructor(
    private readonly set: HookSet,
    private readonly logger: Logger,
    private readonly ctx: CallContext,
    private readonly next: grpc.ServerInterceptingCallInterface,
    private readonly earlyStatus: boolean,
  ) {}

  // --- the listener the call below reports to

  onReceiveMetadata(md: grpc.Metadata): void {
    this.ctx.metadata = md;
    this.up!.onReceiveMetadata(md);
  }

  onReceiveMessage(msg: unknown): void {
    if (!this.set.seeMessages) {
      this.up!.onReceiveMessage(msg);
      return;
    }
    if (this.closed) return;
    const refusal = runBefore(this.set.hooks, this.ctx, msg, this.logger);
    if (refusal === undefined) this.up!.onReceiveMessage(msg);
    else this.refuse(refusal);
  }

  onReceiveHalfClose(): void {
    if (!this.closed) this.up!.onReceiveHalfClose();
  }

  onCancel(): void {
    this.finish(grpc.status.CANCELLED, 'cancelled');
    this.up!.onCancel();
  }

  // --- the call interface grpc-js sees above

  start(listener: UpListener): void {
    this.up = listener;
    this.next.start(this);
  }

  sendMetadata(md: grpc.Metadata): void {
    this.next.sendMetadata(md);
  }

  sendMessage(msg: unknown, callback: () => void): void {
    const s = statusOf(msg);
    if (s) this.status = s;
    this.next.sendMessage(msg, callback);
    if (this.earlyStatus && !this.statusSent) {
      this.statusSent = true;
      this.next.sendStatus(UNARY_OK);
    }
  }

  sendStatus(status: Parameters<grpc.ServerInterceptingCallInterface['sendStatus']>[0]): void {
    // After an early OK this is the handler's own OK, once its answer is written: `after` runs now
    // (its elapsed time still covers the write), the status itself has gone.
    this.finish(status.code, status.details ?? '');
    if (this.statusSent) return;
    this.next.sendStatus(status);
  }

  startRead(): void {
    this.next.startRead();
  }
  getPeer(): string {
    return this.next.getPeer();
  }
  getDeadline(): ReturnType<grpc.ServerInterceptingCallInterface['getDeadline']> {
    return this.next.getDeadline();
  }
  getHost(): string {
    return this.next.getHost();
  }
  getAuthContext(): ReturnType<grpc.ServerInterceptingCallInterface['getAuthContext']> {
    return this.next.getAuthContext();
  }
  getConnectionInfo(): ReturnType<grpc.ServerInterceptingCallInterface['getConnectionInfo']> {
    return this.next.getConnectionInfo();
  }
  getMetricsRecorder(): ReturnType<grpc.ServerInterceptingCallInterface['getMetricsRecorder']> {
    return this.next.getMetricsRecorder();
  }

  private refuse(refusal: GrpcRefusal): void {
    this.refused++;
    const response = { status: makeStatus(refusal.code, refusal.message) };
    if (this.ctx.requestStream) {
      this.sendMessage(response, noop);
      // The handler's stream asked for a message and will not ask again until it gets one.
      this.next.startRead();
      return;
    }
    this.closed = true;
    this.sendMessage(response, () => this.sendStatus({ code: grpc.status.OK, details: 'OK' }));
  }

  private finish(grpcCode: number, details: string): void {
    if (this.finished) return;
    this.finished = true;
    const elapsedMs = performance.now() - this.ctx.startMs;
    const elapsedNs = this.set.wantsNs ? BigInt(Math.round(elapsedMs * 1e6)) : 0n;
    const outcome: GrpcCallOutcome = { grpcCode, details, status: this.status, refused: this.refused };
    for (const h of this.set.hooks) {
      try {
        if (h.after) h.after(this.ctx, outcome, elapsedNs);
        if (h.afterMs) h.afterMs(this.ctx, outcome, elapsedMs);
      } catch (err) {
        this.logger.error({ err, rpc: this.ctx.method }, 'gRPC response hook failed');
      }
    }
  }
}

function runBefore(hooks: readonly GrpcHook[], ctx: GrpcCallContext, request: unknown, logger: Logger): GrpcRefusal | undefined {
  for (const h of hooks) {
    if (!h.before) continue;
    try {
      const r = h.before(ctx, request);
      if (r) return r;
    } catch (err) {
      if (err instanceof ProxyError) return { code: err.code, message: err.message };
      if (err instanceof BrokerError) return { code: codeFromRemoting(err.code), message: err.remark };
      logger.error({ err, rpc: ctx.method, peer: ctx.peer }, 'gRPC request hook failed');
      const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
      return { code: Code.INTERNAL_SERVER_ERROR, message: `${ctx.method} refused: a request hook failed: ${msg}` };
    }
  }
  return undefined;
}
