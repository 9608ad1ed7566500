// Request/response hooks of the remoting server: the one place where a feature that must see every
// request (ACL, trace, metrics) attaches, without touching processors.
//
// Contract:
// - `before` runs for every request the server receives, in registration order, before the
//   processor lookup (so unknown codes are seen too) and before the overload check. It is
//   synchronous on purpose: an asynchronous step here would cost a promise per request on the hot
//   path, and what a hook decides from (accounts, counters) is in memory. Returning a refusal, or
//   throwing a BrokerError, answers that code and remark instead of calling the processor; the
//   remaining hooks are skipped. Any other thrown error refuses with SYSTEM_ERROR (fail closed:
//   an ACL hook that crashes must not let the request through) and is logged.
// - `after` runs once per response the server produces for a request seen by `before`: processor
//   answers, later answers through `channel.respond` (long polling), errors, SYSTEM_BUSY,
//   REQUEST_CODE_NOT_SUPPORTED and refusals, with the time since the request was decoded. A oneway
//   request's response is dropped, not sent, but `after` still sees it (so a refused oneway is
//   counted); a processor that answers nothing produces no `after`. Errors thrown by `after` are
//   logged and ignored.
// - `afterMs` is `after` with the elapsed time as a number of milliseconds: a hook that only needs
//   a duration (metrics) takes it and the request costs no BigInt at all. A hook may have both.
// - With no hook registered the server does one length check per request and nothing else.
//
// Cost (the remoting send path is budgeted per request): one small context object and a
// `performance.now()` at each end of a request; `startNs` and `elapsedNs` are made only when a hook
// reads them.
// The module's own reference: the global `performance` is a lazy getter run on every access.
import { performance } from 'node:perf_hooks';
import type { Logger } from '../common/logger.js';
import { BrokerError } from './broker-error.js';
import { requestCodeName } from './request-code.js';
import { ResponseCode } from './response-code.js';
import { createResponse, isOneway, type RemotingCommand } from './remoting-command.js';
import type { RemotingChannel } from './remoting-channel.js';

export interface RequestHookContext {
  readonly request: RemotingCommand;
  readonly channel: RemotingChannel;
  /** The request code (same as request.code). */
  readonly code: number;
  readonly oneway: boolean;
  /** process.hrtime.bigint() when the request was decoded (computed when read). */
  readonly startNs: bigint;
}

/** What a `before` hook returns to refuse a request: the response code and a remark naming the cause. */
export interface RequestRefusal {
  code: number;
  remark: string;
}

export interface RequestHook {
  /** The same context object is passed to `after`, so a hook may key its own state on it (a trace span). */
  before?(ctx: RequestHookContext): RequestRefusal | undefined | void;
  after?(ctx: RequestHookContext, response: RemotingCommand, elapsedNs: bigint): void;
  /** As `after`, with the elapsed time in milliseconds (fractional); runs right after this hook's `after`. */
  afterMs?(ctx: RequestHookContext, response: RemotingCommand, elapsedMs: number): void;
}

/** process.hrtime.bigint() at performance.now() = 0, so that startNs can be derived from startMs. */
const HRTIME_AT_ZERO_MS = process.hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6));

class HookContext implements RequestHookContext {
  constructor(
    readonly request: RemotingCommand,
    readonly channel: RemotingChannel,
    readonly code: number,
    readonly oneway: boolean,
    /** performance.now() when the request was decoded. */
    readonly startMs: number,
  ) {}

  get startNs(): bigint {
    return HRTIME_AT_ZERO_MS + BigInt(Math.round(this.startMs * 1e6));
  }
}

/** Where a request carries its hook context from `before` to `after` (a field is cheaper than a WeakMap lookup). */
const CONTEXT = Symbol('requestHookContext');
type WithContext = RemotingCommand & { [CONTEXT]?: HookContext };

export class RequestHooks {
  private hooks: RequestHook[] = [];
  /** Some hook has `after` (with a BigInt elapsed time). */
  private wantNs = false;

  constructor(private readonly logger: Logger) {}

  get size(): number {
    return this.hooks.length;
  }

  /** Adds a hook after the others; the returned function removes it. */
  add(hook: RequestHook): () => void {
    this.hooks = [...this.hooks, hook];
    this.wantNs = this.hooks.some((h) => h.after !== undefined);
    return () => {
      this.hooks = this.hooks.filter((h) => h !== hook);
      this.wantNs = this.hooks.some((h) => h.after !== undefined);
    };
  }

  /**
   * Runs the `before` hooks; returns the refusal response, or undefined to let the request through.
   * Remembers the request for `after` either way.
   */
  before(request: RemotingCommand, channel: RemotingChannel): RemotingCommand | undefined {
    const ctx = new HookContext(request, channel, request.code, isOneway(request), performance.now());
    (request as WithContext)[CONTEXT] = ctx;
    for (const h of this.hooks) {
      if (!h.before) continue;
      const refusal = this.runBefore(h, ctx);
      if (refusal) {
        if (ctx.oneway) {
          // Nobody will read a response: the log is the only trace of the refusal besides `after`.
          this.logger.debug({ peer: channel.remoteAddress, code: request.code, refusal: refusal.remark }, 'oneway request refused by a hook');
        }
        return createResponse(refusal.code, refusal.remark);
      }
    }
    return undefined;
  }

  private runBefore(h: RequestHook, ctx: RequestHookContext): RequestRefusal | undefined {
    try {
      return h.before!(ctx) ?? undefined;
    } catch (err) {
      if (err instanceof BrokerError) return { code: err.code, remark: err.remark };
      const msg = err instanceof Error ? err.message : String(err);
      this.logger.error({ peer: ctx.channel.remoteAddress, code: ctx.code, err }, 'request hook failed');
      return { code: ResponseCode.SYSTEM_ERROR, remark: `${requestCodeName(ctx.code)} refused: a request hook failed: ${msg.split('\n')[0]}` };
    }
  }

  /** Runs the `after` hooks for a request seen by `before` (once; later calls for it do nothing). */
  after(request: RemotingCommand, response: RemotingCommand): void {
    const ctx = (request as WithContext)[CONTEXT];
    if (ctx === undefined) return;
    (request as WithContext)[CONTEXT] = undefined;
    const elapsedMs = performance.now() - ctx.startMs;
    const elapsedNs = this.wantNs ? BigInt(Math.round(elapsedMs * 1e6)) : 0n;
    for (const h of this.hooks) {
      try {
        if (h.after) h.after(ctx, response, elapsedNs);
        if (h.afterMs) h.afterMs(ctx, response, elapsedMs);
      } catch (err) {
        this.logger.error({ peer: ctx.channel.remoteAddress, code: ctx.code, err }, 'response hook failed');
      }
    }
  }
}
