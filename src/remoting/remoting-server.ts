import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { silentLogger, type Logger } from '../common/logger.js';
import { DEFAULT_MAX_FRAME_LENGTH } from './frame-decoder.js';
import { Connection, type RemotingChannel, type RequestProcessor } from './remoting-channel.js';
import { RequestCode } from './request-code.js';
import { RequestHooks, type RequestHook } from './request-hooks.js';
import { ServerTlsMaterial, sniffTls, type ServerTlsConfig } from './remoting-server-tls.js';

export interface RemotingServerOptions {
  host?: string;
  port?: number;
  logger?: Logger;
  maxFrameLength?: number;
  /** Close connections idle this long (Java: 120 s). */
  idleTimeoutMs?: number;
  maxInflight?: number;
  /** Open connections one remote address may hold; more are closed at once (absent = no limit). */
  maxConnectionsPerAddress?: number;
  /** See ChannelOptions.maxPendingWriteBytes. */
  maxPendingWriteBytes?: number;
  /** Hooks present from the first request on (more can be added with addHook). */
  hooks?: readonly RequestHook[];
  /** TLS (tlsServerMode and its files); absent or mode disabled = plain TCP only. */
  tls?: ServerTlsConfig;
  /** See ChannelOptions.requestTimeoutMs (serverRequestTimeoutMillis); absent or 0 = no limit. */
  requestTimeoutMs?: number;
  /** Codes never timed; absent = LONG_POLL_CODES. */
  timeoutExemptCodes?: ReadonlySet<number>;
}

/**
 * Requests that may rightly take long, exempt from requestTimeoutMs by design: pulls and pops
 * held for new messages (their wait is the client's suspend/poll time), notifications, and
 * CONSUME_MESSAGE_DIRECTLY, which waits on a client with a timeout of its own.
 */
export const LONG_POLL_CODES: ReadonlySet<number> = new Set([
  RequestCode.PULL_MESSAGE,
  RequestCode.LITE_PULL_MESSAGE,
  RequestCode.POP_MESSAGE,
  RequestCode.NOTIFICATION,
  RequestCode.POLLING_INFO,
  RequestCode.CONSUME_MESSAGE_DIRECTLY,
]);

/** A connection must send its first bytes within this time when TLS is on (the sniffer waits for them). */
const FIRST_BYTES_TIMEOUT_MS = 10_000;

export class RemotingServer {
  private readonly processors = new Map<number, RequestProcessor>();
  private readonly channels = new Set<Connection>();
  private readonly closeListeners: ((ch: RemotingChannel) => void)[] = [];
  private readonly server: Server;
  private readonly logger: Logger;
  private readonly hooks: RequestHooks;
  private boundPort = 0;
  private readonly tls?: { material: ServerTlsMaterial; server: TlsServer; enforcing: boolean };
  /** Open sockets per remote address, for maxConnectionsPerAddress. */
  private readonly perAddress = new Map<string, number>();
  /** Connections refused by maxConnectionsPerAddress and cut for not reading, since start. */
  readonly edgeStats = { refusedConnections: 0, lastRefusalLog: 0 };
  /** Connections whose first bytes are awaited (TLS on); closed with the server. */
  private readonly sniffing = new Set<Socket>();
  /** Answers requests past requestTimeoutMs; one sweep for all connections instead of a timer per request. */
  private timeoutSweeper?: NodeJS.Timeout;
  /** Requests answered SYSTEM_BUSY by requestTimeoutMs since start. */
  timedOutRequests = 0;

  constructor(private readonly opts: RemotingServerOptions = {}) {
    this.logger = opts.logger ?? silentLogger;
    this.hooks = new RequestHooks(this.logger);
    for (const h of opts.hooks ?? []) this.hooks.add(h);
    if (opts.tls && opts.tls.mode !== 'disabled') this.tls = this.createTls(opts.tls);
    this.server = createServer((socket) => {
      if (!this.admit(socket)) return;
      if (this.tls) this.onRawConnection(socket);
      else this.onConnection(socket);
    });
    this.server.on('error', (err) => this.logger.error({ err }, 'remoting server error'));
  }

  registerProcessor(code: number, p: RequestProcessor): void {
    this.processors.set(code, p);
  }

  /**
   * Sees every request before its processor and every response after it (contract in
   * request-hooks.ts); applies to connections already open too. Returns a function that removes it.
   */
  addHook(hook: RequestHook): () => void {
    return this.hooks.add(hook);
  }

  onChannelClose(cb: (ch: RemotingChannel) => void): void {
    this.closeListeners.push(cb);
  }

  get port(): number {
    return this.boundPort;
  }

  /** Open connections (admin views and tests). */
  get connections(): ReadonlySet<RemotingChannel> {
    return this.channels;
  }

  listen(): Promise<{ host: string; port: number }> {
    const host = this.opts.host ?? '0.0.0.0';
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.opts.port ?? 0, host, () => {
        this.server.off('error', onError);
        const addr = this.server.address();
        this.boundPort = typeof addr === 'object' && addr ? addr.port : 0;
        this.startTimeoutSweeper();
        resolve({ host, port: this.boundPort });
      });
    });
  }

  private startTimeoutSweeper(): void {
    const limit = this.opts.requestTimeoutMs;
    if (!limit || limit <= 0 || this.timeoutSweeper) return;
    this.timeoutSweeper = setInterval(
      () => {
        const now = Date.now();
        for (const ch of this.channels) this.timedOutRequests += ch.expireRequests(now);
      },
      Math.min(1000, Math.max(10, Math.floor(limit / 4))),
    );
    this.timeoutSweeper.unref();
  }

  private createTls(config: ServerTlsConfig): { material: ServerTlsMaterial; server: TlsServer; enforcing: boolean } {
    const material = new ServerTlsMaterial(config);
    const needClientAuth = config.needClientAuth === true;
    // Never listens itself: the plain server hands it the sockets that start with a TLS handshake.
    const server = createTlsServer({ ...material.options, requestCert: needClientAuth, rejectUnauthorized: needClientAuth }, (s) => this.onConnection(s));
    server.on('tlsClientError', (err, s) => this.logger.info({ peer: `${s.remoteAddress}:${s.remotePort}`, reason: err.message }, 'TLS handshake failed'));
    material.onChange(() => {
      server.setSecureContext(material.options);
      this.logger.info({ cert: config.certPath }, 'TLS certificate reloaded');
    });
    material.watch((message) => this.logger.error({ cause: message }, 'TLS files changed but cannot be loaded; the previous certificate stays'));
    return { material, server, enforcing: config.mode === 'enforcing' };
  }

  /** Counts the socket against its address; false (socket destroyed) past maxConnectionsPerAddress. */
  private admit(socket: Socket): boolean {
    const max = this.opts.maxConnectionsPerAddress;
    if (max === undefined) return true;
    const host = socket.remoteAddress ?? '';
    const n = this.perAddress.get(host) ?? 0;
    if (n >= max) {
      this.edgeStats.refusedConnections++;
      // One line per second at most: a flood must not become a log flood.
      const now = Date.now();
      if (now - this.edgeStats.lastRefusalLog >= 1000) {
        this.edgeStats.lastRefusalLog = now;
        this.logger.warn({ peer: host, limit: max, refusedSoFar: this.edgeStats.refusedConnections }, 'connection refused: too many connections from this address (serverMaxConnectionsPerAddress)');
      }
      socket.destroy();
      return false;
    }
    this.perAddress.set(host, n + 1);
    socket.once('close', () => {
      const left = (this.perAddress.get(host) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(host);
      else this.perAddress.set(host, left);
    });
    return true;
  }

  /** TLS on: the first byte decides between the TLS server and plain remoting. */
  private onRawConnection(socket: Socket): void {
    const tls = this.tls!;
    this.sniffing.add(socket);
    socket.once('close', () => this.sniffing.delete(socket));
    sniffTls(socket, FIRST_BYTES_TIMEOUT_MS, (isTls) => {
      this.sniffing.delete(socket);
      if (isTls) {
        tls.server.emit('connection', socket);
      } else if (!tls.enforcing) {
        this.onConnection(socket);
        socket.resume();
      } else {
        this.logger.warn({ peer: `${socket.remoteAddress}:${socket.remotePort}` }, 'plain connection refused: tlsServerMode=enforcing accepts TLS only');
        socket.destroy();
      }
    });
  }

  private onConnection(socket: Socket): void {
    const ch = new Connection(socket, {
      logger: this.logger,
      maxFrameLength: this.opts.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH,
      processors: this.processors,
      maxInflight: this.opts.maxInflight ?? 65536,
      maxPendingWriteBytes: this.opts.maxPendingWriteBytes,
      requestTimeoutMs: this.opts.requestTimeoutMs,
      timeoutExemptCodes: this.opts.timeoutExemptCodes ?? LONG_POLL_CODES,
      hooks: this.hooks,
      onClose: (c) => {
        this.channels.delete(c);
        for (const cb of this.closeListeners) {
          try {
            cb(c);
          } catch (err) {
            this.logger.error({ err }, 'channel close listener failed');
          }
        }
      },
    });
    this.channels.add(ch);
    const idle = this.opts.idleTimeoutMs ?? 120_000;
    if (idle > 0) {
      socket.setTimeout(idle, () => {
        this.logger.debug({ peer: ch.remoteAddress }, 'closing idle connection');
        ch.close();
      });
    }
  }

  /** Stops accepting, closes every connection, resolves when the listener is closed. */
  async close(): Promise<void> {
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.timeoutSweeper) clearInterval(this.timeoutSweeper);
    this.tls?.material.close();
    for (const s of this.sniffing) s.destroy();
    for (const ch of [...this.channels]) ch.close();
    await closing;
  }
}
