// One TCP connection speaking the remoting protocol, used by both the server and the client:
// frames in, dispatch of requests to processors, correlation of responses by opaque, and
// batched writes (everything written in a tick leaves in one socket write).
import type { Socket } from 'node:net';
import type { Logger } from '../common/logger.js';
import { BrokerError, FrameError } from './broker-error.js';
import { decodeCommand, encodeCommand } from './command-codec.js';
import { FrameDecoder } from './frame-decoder.js';
import type { RequestHooks } from './request-hooks.js';
import { requestCodeName } from './request-code.js';
import { ResponseCode } from './response-code.js';
import {
  createResponse,
  isOneway,
  isResponse,
  RPC_ONEWAY,
  RPC_TYPE_RESPONSE,
  type RemotingCommand,
} from './remoting-command.js';

export type RequestProcessor = (
  req: RemotingCommand,
  ch: RemotingChannel,
) => RemotingCommand | null | undefined | Promise<RemotingCommand | null | undefined>;

export interface RemotingChannel {
  readonly id: number;
  /** "ip:port" of the peer, IPv4-mapped IPv6 shown as plain IPv4. */
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly closed: boolean;
  /** Answers a request later (long polling); dropped for oneway requests or a closed channel. */
  respond(request: RemotingCommand, response: RemotingCommand): void;
  /** Sends a request to the peer and waits for its response. */
  invoke(cmd: RemotingCommand, timeoutMs: number): Promise<RemotingCommand>;
  /** Sends a request with the oneway flag; no response is expected. */
  oneway(cmd: RemotingCommand): void;
  close(): void;
  /** Free-form slot for the layer above (e.g. the client id seen in heartbeats). */
  attachment?: unknown;
}

export interface ChannelOptions {
  logger: Logger;
  maxFrameLength: number;
  processors: ReadonlyMap<number, RequestProcessor>;
  /** In-flight asynchronous requests above which new ones get SYSTEM_BUSY. */
  maxInflight: number;
  /**
   * Bytes written but not yet taken by the peer above which the connection is closed: a client
   * that never reads its responses must not make the server hold them all (absent = no bound).
   */
  maxPendingWriteBytes?: number;
  /** Server side only: request/response hooks (request-hooks.ts). */
  hooks?: RequestHooks;
  /**
   * Server side only: a request whose processor has not answered after this long is answered
   * SYSTEM_BUSY naming the limit, and the processor's late answer is dropped (absent or 0 = no limit).
   * Checked by expireRequests; requests answered later through respond() (held pulls) are not timed.
   */
  requestTimeoutMs?: number;
  /** Request codes never timed (long polls, and requests that wait on a client with their own timeout). */
  timeoutExemptCodes?: ReadonlySet<number>;
  onClose?: (ch: Connection) => void;
}

interface Pending {
  resolve: (cmd: RemotingCommand) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

let nextChannelId = 1;
/** Output gathered past this size is written at once instead of at the end of the tick. */
const MAX_COALESCED_BYTES = 1024 * 1024;

export function formatAddress(address: string | undefined, port: number | undefined): string {
  let a = address ?? 'unknown';
  if (a.startsWith('::ffff:')) a = a.slice(7);
  return a.includes(':') ? `[${a}]:${port ?? 0}` : `${a}:${port ?? 0}`;
}

export class Connection implements RemotingChannel {
  readonly id = nextChannelId++;
  readonly remoteAddress: string;
  readonly localAddress: string;
  attachment?: unknown;
  private readonly decoder: FrameDecoder;
  private readonly pending = new Map<number, Pending>();
  private outParts: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private inflight = 0;
  private isClosed = false;
  /** Timed requests in progress and when each started (insertion order = start order). */
  private timed?: Map<RemotingCommand, number>;

  constructor(
    readonly socket: Socket,
    private readonly opts: ChannelOptions,
  ) {
    this.remoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
    this.localAddress = formatAddress(socket.localAddress, socket.localPort);
    this.decoder = new FrameDecoder(opts.maxFrameLength);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => opts.logger.debug({ peer: this.remoteAddress, err: err.message }, 'socket error'));
    socket.on('close', () => this.onSocketClose());
  }

  get closed(): boolean {
    return this.isClosed;
  }

  private readonly onFrame = (frame: Buffer): void => {
    const cmd = decodeCommand(frame);
    if (isResponse(cmd)) this.onResponse(cmd);
    else this.onRequest(cmd);
  };

  private onData(chunk: Buffer): void {
    try {
      this.decoder.push(chunk, this.onFrame);
    } catch (err) {
      if (err instanceof FrameError) {
        this.opts.logger.warn({ peer: this.remoteAddress, reason: err.message }, 'closing connection: malformed frame');
      } else {
        this.opts.logger.error({ peer: this.remoteAddress, err }, 'closing connection: unexpected error while decoding');
      }
      this.close();
    }
  }

  private onResponse(cmd: RemotingCommand): void {
    const p = this.pending.get(cmd.opaque);
    if (!p) return; // late or unsolicited (ali-ons answers nothing; Java may answer oneways): drop
    this.pending.delete(cmd.opaque);
    clearTimeout(p.timer);
    p.resolve(cmd);
  }

  private onRequest(req: RemotingCommand): void {
    const hooks = this.opts.hooks;
    if (hooks !== undefined && hooks.size !== 0) {
      const refusal = hooks.before(req, this);
      if (refusal) {
        this.respond(req, refusal);
        return;
      }
    }
    const processor = this.opts.processors.get(req.code);
    if (!processor) {
      this.respond(
        req,
        createResponse(ResponseCode.REQUEST_CODE_NOT_SUPPORTED, `request type ${req.code} (${requestCodeName(req.code)}) not supported`),
      );
      return;
    }
    if (this.inflight >= this.opts.maxInflight) {
      this.respond(req, createResponse(ResponseCode.SYSTEM_BUSY, '[REJECTREQUEST]system busy, too many requests in flight'));
      return;
    }
    let result: ReturnType<RequestProcessor>;
    try {
      result = processor(req, this);
    } catch (err) {
      this.respondError(req, err);
      return;
    }
    if (result === null || result === undefined) return;
    if (typeof (result as Promise<unknown>).then === 'function') {
      this.inflight++;
      const limit = this.opts.requestTimeoutMs;
      const timed = limit !== undefined && limit > 0 && this.opts.timeoutExemptCodes?.has(req.code) !== true;
      if (timed) (this.timed ??= new Map()).set(req, Date.now());
      (result as Promise<RemotingCommand | null | undefined>).then(
        (r) => {
          // The slot is held until the work really ends: a stuck store must not let one client pile up more.
          this.inflight--;
          if (timed && !this.timed!.delete(req)) return this.lateAnswer(req);
          if (r) this.respond(req, r);
        },
        (err: unknown) => {
          this.inflight--;
          if (timed && !this.timed!.delete(req)) return this.lateAnswer(req);
          this.respondError(req, err);
        },
      );
      return;
    }
    this.respond(req, result as RemotingCommand);
  }

  /**
   * Answers SYSTEM_BUSY to every timed request older than requestTimeoutMs at `now`; returns how
   * many. The processor may still complete the work (a send may be stored): the client hears
   * that it did not finish in time, as after its own timeout.
   */
  expireRequests(now: number): number {
    const timed = this.timed;
    const limit = this.opts.requestTimeoutMs;
    if (timed === undefined || timed.size === 0 || !limit) return 0;
    let n = 0;
    for (const [req, started] of timed) {
      if (now - started < limit) break;
      timed.delete(req);
      n++;
      this.opts.logger.warn({ peer: this.remoteAddress, code: req.code, timeoutMs: limit }, 'request timed out on the server (serverRequestTimeoutMillis)');
      this.respond(
        req,
        createResponse(ResponseCode.SYSTEM_BUSY, `[TIMEOUT]${requestCodeName(req.code)} not answered within serverRequestTimeoutMillis=${limit} ms; the broker may still complete it`),
      );
    }
    return n;
  }

  private lateAnswer(req: RemotingCommand): void {
    this.opts.logger.debug({ peer: this.remoteAddress, code: req.code }, 'answer after serverRequestTimeoutMillis dropped');
  }

  private respondError(req: RemotingCommand, err: unknown): void {
    if (err instanceof BrokerError) {
      this.respond(req, createResponse(err.code, err.remark));
      return;
    }
    const msg = err instanceof Error ? err.message : String(err);
    this.opts.logger.error({ peer: this.remoteAddress, code: req.code, err }, 'request processor failed');
    this.respond(req, createResponse(ResponseCode.SYSTEM_ERROR, `${requestCodeName(req.code)} failed: ${msg.split('\n')[0]}`));
  }

  respond(request: RemotingCommand, response: RemotingCommand): void {
    if (!isOneway(request) && !this.isClosed) {
      response.opaque = request.opaque;
      response.flag |= RPC_TYPE_RESPONSE;
      response.serializeType = request.serializeType;
      this.write(response);
    }
    const hooks = this.opts.hooks;
    if (hooks !== undefined && hooks.size !== 0) hooks.after(request, response);
  }

  invoke(cmd: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    if (this.isClosed) return Promise.reject(new Error(`connection to ${this.remoteAddress} is closed`));
    return new Promise<RemotingCommand>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(cmd.opaque);
        reject(new Error(`${requestCodeName(cmd.code)} to ${this.remoteAddress} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(cmd.opaque, { resolve, reject, timer });
      this.write(cmd);
    });
  }

  oneway(cmd: RemotingCommand): void {
    if (this.isClosed) return;
    cmd.flag |= RPC_ONEWAY;
    this.write(cmd);
  }

  private write(cmd: RemotingCommand): void {
    let parts: Buffer[];
    try {
      parts = encodeCommand(cmd);
    } catch (err) {
      this.opts.logger.error({ peer: this.remoteAddress, err }, 'cannot encode command');
      return;
    }
    for (const p of parts) {
      this.outParts.push(p);
      this.outBytes += p.length;
    }
    if (this.outBytes >= MAX_COALESCED_BYTES) this.flushOut();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flushOut);
    }
  }

  /**
   * Everything written in this tick goes out as one buffer in one socket write: copying a few
   * KiB is cheaper than the stream machinery and a writev entry per small head and body.
   */
  private readonly flushOut = (): void => {
    this.flushScheduled = false;
    if (this.outParts.length === 0) return;
    const parts = this.outParts;
    const bytes = this.outBytes;
    this.outParts = [];
    this.outBytes = 0;
    if (this.isClosed) return;
    this.socket.write(parts.length === 1 ? parts[0] : Buffer.concat(parts, bytes));
    const limit = this.opts.maxPendingWriteBytes;
    if (limit !== undefined && this.socket.writableLength > limit) {
      this.opts.logger.warn({ peer: this.remoteAddress, pendingBytes: this.socket.writableLength, limit }, 'closing connection: the peer does not read its responses (serverMaxPendingWriteBytes)');
      this.close();
    }
  };

  close(): void {
    if (this.isClosed) return;
    this.socket.destroy();
    this.onSocketClose();
  }

  private onSocketClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const err = new Error(`connection to ${this.remoteAddress} closed`);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.opts.onClose?.(this);
  }
}
