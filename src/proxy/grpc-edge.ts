// The gRPC endpoint's edge (issue 15, docs/SECURITY.md): our own TCP listener in front of grpc-js
// (grpc-js has no per-address hook), HTTP/2 limits as grpc-js server options, a bound on the
// response bytes a connection leaves unread, and a server-side time limit on unary calls.
//
// The listener counts connections per remote address and refuses the excess before HTTP/2 sees
// them; with TLS on it also reads the first byte (TLS or plain on one port). Accepted sockets are
// handed to grpc-js through its public connection injectors, so every session still gets grpc-js'
// keepalive, idle and stream limits.
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import { GRPC_EDGE_KEYS, REQUEST_TIMEOUT_KEYS } from '../config/index.js';
import { ServerTlsMaterial, sniffTls, type ServerTlsConfig } from '../remoting/index.js';
import { Code, status as makeStatus } from './grpc-code.js';

export interface GrpcEdgeOptions {
  /** Bytes of one request message (grpcMaxInboundMessageSize); larger ones get RESOURCE_EXHAUSTED. */
  maxReceiveMessageBytes?: number;
  /** Open connections per remote address; more are closed at accept (absent = no limit). */
  maxConnectionsPerAddress?: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: calls open at once on one connection. */
  maxConcurrentStreams?: number;
  /** Response bytes of streaming calls a connection may leave unread before it is cut (absent = no bound). */
  maxPendingWriteBytes?: number;
  /** A connection without an open call for this long is closed (0 or absent = never). */
  idleTimeoutMs?: number;
  /** Server pings every this many ms; a ping unanswered for keepaliveTimeoutMs closes the connection (0 = no pings). */
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
  /** A unary call still unanswered after this long is answered PROXY_TIMEOUT (0 or absent = no limit). */
  requestTimeoutMs?: number;
}

/** The edge options of a role's configuration keys (broker and proxy share the names). */
export function grpcEdgeOf(c: {
  grpcMaxInboundMessageSize: number;
  grpcMaxConnectionsPerAddress: number;
  grpcMaxConcurrentStreams: number;
  grpcMaxPendingWriteBytes: number;
  grpcClientIdleTimeMills: number;
  grpcKeepaliveTimeMills: number;
  grpcKeepaliveTimeoutMills: number;
  serverRequestTimeoutMillis: number;
}): GrpcEdgeOptions {
  return {
    maxReceiveMessageBytes: c.grpcMaxInboundMessageSize,
    maxConnectionsPerAddress: c.grpcMaxConnectionsPerAddress,
    maxConcurrentStreams: c.grpcMaxConcurrentStreams,
    maxPendingWriteBytes: c.grpcMaxPendingWriteBytes,
    idleTimeoutMs: c.grpcClientIdleTimeMills,
    keepaliveTimeMs: c.grpcKeepaliveTimeMills,
    keepaliveTimeoutMs: c.grpcKeepaliveTimeoutMills,
    requestTimeoutMs: c.serverRequestTimeoutMillis,
  };
}

/** The limits of the configuration keys' defaults, for servers started without a configuration. */
export const DEFAULT_EDGE: GrpcEdgeOptions = Object.freeze(grpcEdgeOf(defaultsOf({ ...GRPC_EDGE_KEYS, ...REQUEST_TIMEOUT_KEYS })));

function defaultsOf<S extends Record<string, { default: number }>>(keys: S): { [K in keyof S]: number } {
  const out: Record<string, number> = {};
  for (const [k, spec] of Object.entries(keys)) out[k] = spec.default;
  return out as { [K in keyof S]: number };
}

/** Default request size when no option says otherwise (as before the edge keys existed). */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** grpc-js server options for the HTTP/2 side of the limits. */
export function grpcServerOptions(e: GrpcEdgeOptions): grpc.ServerOptions {
  const o: grpc.ServerOptions = {
    'grpc.max_receive_message_length': e.maxReceiveMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': DEFAULT_MAX_MESSAGE_BYTES,
  };
  if (e.maxConcurrentStreams !== undefined) o['grpc.max_concurrent_streams'] = e.maxConcurrentStreams;
  // grpc-js reads 0 as "at once", so "never" is the option left out.
  if (e.idleTimeoutMs) o['grpc.max_connection_idle_ms'] = e.idleTimeoutMs;
  if (e.keepaliveTimeMs) {
    o['grpc.keepalive_time_ms'] = e.keepaliveTimeMs;
    o['grpc.keepalive_timeout_ms'] = e.keepaliveTimeoutMs ?? 20_000;
  }
  return o;
}

/** Counters since start (tests and logs). */
export interface GrpcEdgeStats {
  refusedConnections: number;
  cutSlowReaders: number;
  timedOutCalls: number;
}

interface ConnState {
  socket: Socket;
  /** Response bytes handed to HTTP/2 on streaming calls and not yet written out. */
  pending: number;
}

/** A connection must send its first bytes within this time when TLS is on (the sniffer waits for them). */
const FIRST_BYTES_TIMEOUT_MS = 10_000;

const keyOf = (address: string | undefined, port: number | undefined): string => `${address ?? ''}|${port ?? 0}`;

/** The listener in front of grpc-js, and the per-connection state the interceptors below use. */
export class GrpcEdge {
  readonly stats: GrpcEdgeStats = { refusedConnections: 0, cutSlowReaders: 0, timedOutCalls: 0 };
  private readonly perAddress = new Map<string, number>();
  private readonly conns = new Map<string, ConnState>();
  private readonly pendingFirstBytes = new Set<Socket>();
  private readonly injectors: grpc.ConnectionInjector[] = [];
  private listener?: NetServer;
  private material?: ServerTlsMaterial;
  private lastRefusalLog = 0;

  constructor(
    private readonly opts: GrpcEdgeOptions,
    private readonly logger: Logger,
  ) {}

  /** Listens on host:port for server; with tls (mode permissive or enforcing) TLS connections are told apart by their first byte. */
  async listen(server: grpc.Server, host: string, port: number, tls: ServerTlsConfig | undefined): Promise<number> {
    const route = tls && tls.mode !== 'disabled' ? this.tlsRoute(server, tls) : this.plainRoute(server);
    const listener = createNetServer((socket) => {
      if (this.admit(socket)) route(socket);
    });
    listener.on('error', (err) => this.logger.error({ err }, 'gRPC listener error'));
    this.listener = listener;
    return new Promise<number>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, host, () => {
        listener.off('error', reject);
        const a = listener.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      });
    });
  }

  private plainRoute(server: grpc.Server): (socket: Socket) => void {
    const plain = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    this.injectors.push(plain);
    return (socket) => plain.injectConnection(socket);
  }

  /** New certificates (files changed) go to connections accepted from then on. */
  private tlsRoute(server: grpc.Server, config: ServerTlsConfig): (socket: Socket) => void {
    const material = new ServerTlsMaterial(config);
    this.material = material;
    const credentials = (): grpc.ServerCredentials => {
      const o = material.options;
      return grpc.ServerCredentials.createSsl(o.ca ? (o.ca as Buffer) : null, [{ cert_chain: o.cert as Buffer, private_key: o.key as Buffer }], config.needClientAuth === true);
    };
    let secure = server.createConnectionInjector(credentials());
    this.injectors.push(secure);
    material.onChange(() => {
      secure = server.createConnectionInjector(credentials());
      this.injectors.push(secure);
      this.logger.info({ cert: config.certPath }, 'gRPC TLS certificate reloaded');
    });
    material.watch((message) => this.logger.error({ cause: message }, 'TLS files changed but cannot be loaded; the previous certificate stays'));
    const plain = config.mode === 'permissive' ? this.plainRoute(server) : undefined;
    return (socket) => {
      this.pendingFirstBytes.add(socket);
      socket.once('close', () => this.pendingFirstBytes.delete(socket));
      sniffTls(socket, FIRST_BYTES_TIMEOUT_MS, (isTls) => {
        this.pendingFirstBytes.delete(socket);
        if (isTls) secure.injectConnection(socket);
        else if (plain) plain(socket);
        else {
          this.logger.warn({ peer: `${socket.remoteAddress}:${socket.remotePort}` }, 'plain gRPC connection refused: tlsServerMode=enforcing accepts TLS only');
          socket.destroy();
        }
      });
    };
  }

  /** Counts the socket against its address; false (socket destroyed) past maxConnectionsPerAddress. */
  private admit(socket: Socket): boolean {
    const host = socket.remoteAddress ?? '';
    const max = this.opts.maxConnectionsPerAddress;
    const n = this.perAddress.get(host) ?? 0;
    if (max !== undefined && n >= max) {
      this.stats.refusedConnections++;
      // One line per second at most: a flood must not become a log flood.
      const now = Date.now();
      if (now - this.lastRefusalLog >= 1000) {
        this.lastRefusalLog = now;
        this.logger.warn({ peer: host, limit: max, refusedSoFar: this.stats.refusedConnections }, 'gRPC connection refused: too many connections from this address (grpcMaxConnectionsPerAddress)');
      }
      socket.destroy();
      return false;
    }
    this.perAddress.set(host, n + 1);
    const key = keyOf(socket.remoteAddress, socket.remotePort);
    const conn: ConnState = { socket, pending: 0 };
    this.conns.set(key, conn);
    socket.once('close', () => {
      if (this.conns.get(key) === conn) this.conns.delete(key);
      const left = (this.perAddress.get(host) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(host);
      else this.perAddress.set(host, left);
    });
    return true;
  }

  /**
   * Resolves once every admitted connection has closed, or after timeoutMs. At shutdown, after
   * grpc-js closed its sessions: a session's last frames (a stream's OK trailers) are still on
   * their way while its socket is open, and a process that exits then resets them, which a 5.x
   * client that already dropped its stream's listeners gets as an uncaught 'Connection dropped'.
   */
  drained(timeoutMs: number): Promise<void> {
    if (this.conns.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      let left = this.conns.size;
      const t = setTimeout(resolve, timeoutMs);
      const done = (): void => {
        if (--left > 0) return;
        clearTimeout(t);
        resolve();
      };
      for (const c of this.conns.values()) {
        if (c.socket.destroyed) done();
        else c.socket.once('close', done);
      }
    });
  }

  /** Open connections from one address (tests, admin views). */
  connectionsFrom(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  /**
   * Counts the response bytes of streaming calls (receive, pull) per connection, from the moment
   * grpc-js takes a message until HTTP/2 has written it; a connection past maxPendingWriteBytes is
   * closed. Unary answers are small and bounded by maxConcurrentStreams, so they pass untouched.
   * Put it first in `interceptors` (innermost) so it sees each message of an expanded batch.
   */
  pendingWriteInterceptor(paths: ReadonlySet<string>): grpc.ServerInterceptor {
    const limit = this.opts.maxPendingWriteBytes;
    return (method, call) => {
      if (limit === undefined || !paths.has(method.path)) return call as grpc.ServerInterceptingCall;
      const info = call.getConnectionInfo();
      const conn = this.conns.get(keyOf(info.remoteAddress, info.remotePort));
      if (conn === undefined) return call as grpc.ServerInterceptingCall;
      // What this call still has in the connection's count; given back once the call is over.
      let mine = 0;
      return new grpc.ServerInterceptingCall(call, {
        start: (next) =>
          next({
            onCancel: () => {
              conn.pending -= mine;
              mine = 0;
            },
          }),
        sendMessage: (message, next) => {
          const bytes = approximateSize(message);
          mine += bytes;
          conn.pending += bytes;
          if (conn.pending > limit) this.cutSlowReader(conn, limit);
          next(message);
        },
      });
    };
  }

  private cutSlowReader(conn: ConnState, limit: number): void {
    if (conn.socket.destroyed) return;
    this.stats.cutSlowReaders++;
    this.logger.warn(
      { peer: `${conn.socket.remoteAddress}:${conn.socket.remotePort}`, pendingBytes: conn.pending, limit },
      'closing gRPC connection: the peer does not read its responses (grpcMaxPendingWriteBytes)',
    );
    conn.socket.destroy();
  }

  /** Stops accepting; connections already handed to grpc-js stay until the server shuts them down. */
  stopAccepting(): void {
    this.material?.close();
    this.listener?.close();
    for (const s of this.pendingFirstBytes) s.destroy();
  }

  /**
   * Releases the injectors. Call after grpc-js' tryShutdown has closed the sessions: destroying an
   * injector first drops its server from grpc-js' books, and shutdown then ends before its
   * sessions, leaving open calls to be reset when the process exits.
   */
  close(): void {
    this.stopAccepting();
    for (const inj of this.injectors) inj.destroy();
  }
}

/**
 * The size a response takes once encoded, without encoding it: pre-encoded deliveries are Buffers;
 * a message object is about its body; anything else is a small status or offset frame.
 */
function approximateSize(message: unknown): number {
  if (Buffer.isBuffer(message)) return message.length;
  const body = (message as { message?: { body?: Uint8Array } } | null)?.message?.body;
  return body ? body.length + 512 : 256;
}

/**
 * Answers a unary call still running after timeoutMs with a v2 Status PROXY_TIMEOUT that names
 * the limit (as the Java proxy answers a relayed call that timed out); the handler's late answer is
 * dropped. The client's own deadline is grpc-js' (DEADLINE_EXCEEDED) and applies as well.
 * Streaming calls (receive long polls, pull, Telemetry) are left alone. The unary handler wrapper
 * (grpc-handler.ts) registers each call with `track` and answers through `settle`: no interceptor
 * layer per call (issue 17), and the hooks' interceptor, outside the handler, sees the timeout's
 * answer as the call's answer.
 */
export class RequestTimeouts {
  private readonly open = new Set<TimedCall>();
  private readonly sweeper?: NodeJS.Timeout;

  constructor(
    private readonly timeoutMs: number,
    private readonly stats: GrpcEdgeStats,
    private readonly logger: Logger,
  ) {
    if (timeoutMs <= 0) return;
    // A sweep rather than a timer per call: calls are many, and a limit met a little late is fine.
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, Math.max(10, Math.floor(timeoutMs / 4))));
    this.sweeper.unref();
  }

  /** Registers a unary call; undefined when there is no limit (settle takes that too). */
  track<Res>(method: string, call: TimedUnaryCall, answer: grpc.sendUnaryData<Res>): TimedCall | undefined {
    if (this.sweeper === undefined) return undefined;
    const t: TimedCall = { deadline: Date.now() + this.timeoutMs, method, call, answer: answer as grpc.sendUnaryData<unknown>, done: false };
    this.open.add(t);
    return t;
  }

  /** The handler's answer is due: false when the call was already answered by the timeout (drop it). */
  settle(t: TimedCall | undefined): boolean {
    if (t === undefined) return true;
    if (t.done) return false;
    t.done = true;
    this.open.delete(t);
    return true;
  }

  private sweep(): void {
    const now = Date.now();
    for (const t of this.open) {
      if (t.deadline > now) continue;
      this.open.delete(t);
      t.done = true;
      // Ended by the client (cancel, its deadline, a broken connection): nobody to answer.
      if (t.call.cancelled) continue;
      this.stats.timedOutCalls++;
      const message = `${t.method} not answered within serverRequestTimeoutMillis=${this.timeoutMs} ms`;
      this.logger.warn({ method: t.method, peer: t.call.getPeer(), timeoutMs: this.timeoutMs }, 'gRPC call timed out on the server');
      t.answer(null, { status: makeStatus(Code.PROXY_TIMEOUT, message) });
    }
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.open.clear();
  }
}

/** What the time limit needs of grpc-js's unary call object. */
export interface TimedUnaryCall {
  readonly cancelled: boolean;
  getPeer(): string;
}

export interface TimedCall {
  deadline: number;
  method: string;
  call: TimedUnaryCall;
  answer: grpc.sendUnaryData<unknown>;
  /** Answered (by the handler or by the timeout): a second answer is dropped. */
  done: boolean;
}
