import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { silentLogger, type Logger } from '../common/logger.js';
import { DEFAULT_MAX_FRAME_LENGTH } from './frame-decoder.js';
import { Connection, type RequestProcessor } from './remoting-channel.js';
import { type RemotingCommand, type SerializeTypeValue } from './remoting-command.js';

export interface RemotingClientOptions {
  logger?: Logger;
  connectTimeoutMs?: number;
  /** Serialize type of outgoing requests (JSON by default, as ali-ons). */
  serializeType?: SerializeTypeValue;
  /** Runs on every outgoing request just before it is written (e.g. ACL signing). */
  rpcHook?: (cmd: RemotingCommand) => void;
  maxFrameLength?: number;
  /**
   * Connect with TLS: true verifies the server against the system CAs and its name; an object adds
   * node:tls options (ca for a private CA, cert/key for client auth, rejectUnauthorized); a
   * function decides per address (e.g. TLS to brokers, plain to name servers).
   */
  tls?: boolean | ConnectionOptions | ((addr: string) => boolean | ConnectionOptions);
}

/** Parses "host:port" or "[v6]:port". */
export function parseAddress(addr: string): { host: string; port: number } {
  const m = /^\[(.+)\]:(\d+)$/.exec(addr) ?? /^([^:]+):(\d+)$/.exec(addr);
  if (!m) throw new Error(`bad address "${addr}": expected host:port`);
  return { host: m[1], port: Number(m[2]) };
}

/** A remoting client that keeps one connection per address and reuses it. */
export class RemotingClient {
  private readonly conns = new Map<string, Promise<Connection>>();
  private readonly processors = new Map<number, RequestProcessor>();
  private readonly logger: Logger;
  private closed = false;

  constructor(private readonly opts: RemotingClientOptions = {}) {
    this.logger = opts.logger ?? silentLogger;
  }

  registerProcessor(code: number, p: RequestProcessor): void {
    this.processors.set(code, p);
  }

  async invoke(addr: string, cmd: RemotingCommand, timeoutMs = 3000): Promise<RemotingCommand> {
    const conn = await this.connection(addr);
    this.prepare(cmd);
    return conn.invoke(cmd, timeoutMs);
  }

  async invokeOneway(addr: string, cmd: RemotingCommand): Promise<void> {
    const conn = await this.connection(addr);
    this.prepare(cmd);
    conn.oneway(cmd);
  }

  private prepare(cmd: RemotingCommand): void {
    if (this.opts.serializeType !== undefined) cmd.serializeType = this.opts.serializeType;
    this.opts.rpcHook?.(cmd);
  }

  /** The live connection to addr, opened on first use. */
  connection(addr: string): Promise<Connection> {
    if (this.closed) return Promise.reject(new Error('remoting client is closed'));
    let p = this.conns.get(addr);
    if (!p) {
      p = this.open(addr);
      this.conns.set(addr, p);
      p.catch(() => this.conns.delete(addr));
    }
    return p;
  }

  private open(addr: string): Promise<Connection> {
    const { host, port } = parseAddress(addr);
    return new Promise((resolve, reject) => {
      const choice = typeof this.opts.tls === 'function' ? this.opts.tls(addr) : this.opts.tls;
      const tlsOpts = choice === true ? {} : choice || undefined;
      // servername only for names: an IP address in SNI is not allowed (the certificate's IP SAN is checked instead).
      const socket: Socket = tlsOpts
        ? connectTls({ host, port, ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }), ...tlsOpts })
        : connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${addr} timed out after ${this.opts.connectTimeoutMs ?? 3000} ms`));
      }, this.opts.connectTimeoutMs ?? 3000);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`connect to ${addr} failed: ${err.message}`));
      });
      socket.once(tlsOpts ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        const conn = new Connection(socket, {
          logger: this.logger,
          maxFrameLength: this.opts.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH,
          processors: this.processors,
          maxInflight: 65536,
          onClose: () => {
            if (this.conns.get(addr) === current) this.conns.delete(addr);
          },
        });
        const current = Promise.resolve(conn);
        this.conns.set(addr, current);
        resolve(conn);
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.conns.values()];
    this.conns.clear();
    for (const p of all) {
      try {
        (await p).close();
      } catch {
        // a connection that never opened has nothing to close
      }
    }
  }
}
