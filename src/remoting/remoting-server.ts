import { createServer, type Server, type Socket } from 'node:net';
import { silentLogger, type Logger } from '../common/logger.js';
import { DEFAULT_MAX_FRAME_LENGTH } from './frame-decoder.js';
import { Connection, type RemotingChannel, type RequestProcessor } from './remoting-channel.js';
import { RequestHooks, type RequestHook } from './request-hooks.js';

export interface RemotingServerOptions {
  host?: string;
  port?: number;
  logger?: Logger;
  maxFrameLength?: number;
  /** Close connections idle this long (Java: 120 s). */
  idleTimeoutMs?: number;
  maxInflight?: number;
  /** Hooks present from the first request on (more can be added with addHook). */
  hooks?: readonly RequestHook[];
}

export class RemotingServer {
  private readonly processors = new Map<number, RequestProcessor>();
  private readonly channels = new Set<Connection>();
  private readonly closeListeners: ((ch: RemotingChannel) => void)[] = [];
  private readonly server: Server;
  private readonly logger: Logger;
  private readonly hooks: RequestHooks;
  private boundPort = 0;

  constructor(private readonly opts: RemotingServerOptions = {}) {
    this.logger = opts.logger ?? silentLogger;
    this.hooks = new RequestHooks(this.logger);
    for (const h of opts.hooks ?? []) this.hooks.add(h);
    this.server = createServer((socket) => this.onConnection(socket));
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
        resolve({ host, port: this.boundPort });
      });
    });
  }

  private onConnection(socket: Socket): void {
    const ch = new Connection(socket, {
      logger: this.logger,
      maxFrameLength: this.opts.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH,
      processors: this.processors,
      maxInflight: this.opts.maxInflight ?? 65536,
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
    for (const ch of [...this.channels]) ch.close();
    await closing;
  }
}
