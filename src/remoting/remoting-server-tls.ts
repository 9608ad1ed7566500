// TLS for the servers (remoting and the gRPC endpoint), with RocketMQ's tlsServerMode:
// disabled (plain only), permissive (TLS and plain on one port, told apart by the first byte: a
// TLS ClientHello starts with record type 0x16, a remoting frame with the high byte of its
// length, which stays below 0x16 for frames under 352 MiB) and enforcing (TLS only). The PEM
// files are re-read when they change; new connections get the new certificate.
import { readFileSync, statSync, unwatchFile, watchFile } from 'node:fs';
import type { Socket } from 'node:net';
import type { SecureContextOptions } from 'node:tls';

export const TLS_SERVER_MODES = ['disabled', 'permissive', 'enforcing'] as const;
export type TlsServerMode = (typeof TLS_SERVER_MODES)[number];

export interface ServerTlsConfig {
  mode: TlsServerMode;
  /** PEM certificate chain and private key of the server. */
  certPath: string;
  keyPath: string;
  /** PEM CA certificates client certificates are checked against ('' = none). */
  trustCertPath?: string;
  /** Ask for and verify a client certificate (needs trustCertPath). */
  needClientAuth?: boolean;
  /** How often the files' modification times are looked at (ms). */
  reloadCheckMs?: number;
}

/** First byte of a TLS handshake record. */
export const TLS_HANDSHAKE_BYTE = 0x16;

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read the TLS ${what} ${path || '(not set)'}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

/** The server's certificate material, kept current with its files. */
export class ServerTlsMaterial {
  private listeners: (() => void)[] = [];
  private mtimes: number[] = [];
  private watching = false;
  private current: SecureContextOptions;

  constructor(readonly config: ServerTlsConfig) {
    if (config.needClientAuth && !config.trustCertPath) throw new Error('tlsServerNeedClientAuth=true needs tlsServerTrustCertPath (the CA that signs client certificates)');
    this.current = this.read();
    this.mtimes = this.stat();
  }

  private files(): string[] {
    return [this.config.certPath, this.config.keyPath, ...(this.config.trustCertPath ? [this.config.trustCertPath] : [])];
  }

  private stat(): number[] {
    return this.files().map((f) => {
      try {
        return statSync(f).mtimeMs;
      } catch {
        return 0;
      }
    });
  }

  private read(): SecureContextOptions {
    const c = this.config;
    return {
      cert: readPem(c.certPath, 'certificate (tlsServerCertPath)'),
      key: readPem(c.keyPath, 'private key (tlsServerKeyPath)'),
      ...(c.trustCertPath ? { ca: readPem(c.trustCertPath, 'trust certificate (tlsServerTrustCertPath)') } : {}),
    };
  }

  /** cert, key and ca as PEM buffers. */
  get options(): SecureContextOptions {
    return this.current;
  }

  /** Calls cb after the files changed and were read again. */
  onChange(cb: () => void): void {
    this.listeners.push(cb);
  }

  /**
   * Polls the files; a change that does not load (a half-copied key) keeps the previous material
   * and is retried at the next change. Returns the error text of a failed reload to onError.
   */
  watch(onError: (message: string) => void): void {
    if (this.watching) return;
    this.watching = true;
    const check = (): void => {
      const now = this.stat();
      if (now.every((m, i) => m === this.mtimes[i])) return;
      this.mtimes = now;
      try {
        this.current = this.read();
      } catch (err) {
        onError((err as Error).message);
        return;
      }
      for (const cb of this.listeners) cb();
    };
    for (const f of this.files()) watchFile(f, { interval: this.config.reloadCheckMs ?? 1000, persistent: false }, check);
  }

  close(): void {
    if (!this.watching) return;
    for (const f of this.files()) unwatchFile(f);
    this.watching = false;
  }
}

/**
 * Waits for a connection's first bytes and says whether they start a TLS handshake. The bytes stay
 * in the socket (unshifted, socket paused) for whoever takes it next; a socket that closes or
 * stays silent for timeoutMs is destroyed without a call.
 */
export function sniffTls(socket: Socket, timeoutMs: number, cb: (isTls: boolean) => void): void {
  const onError = (): void => {
    socket.destroy();
  };
  const timer = setTimeout(() => {
    socket.off('data', onData);
    socket.destroy();
  }, timeoutMs);
  timer.unref();
  const onData = (chunk: Buffer): void => {
    clearTimeout(timer);
    socket.off('error', onError);
    socket.pause();
    socket.unshift(chunk);
    cb(chunk[0] === TLS_HANDSHAKE_BYTE);
  };
  socket.once('error', onError);
  socket.once('close', () => clearTimeout(timer));
  socket.once('data', onData);
}

/** The TLS settings of a role's configuration keys (RocketMQ's names); undefined when tlsServerMode=disabled. */
export function serverTlsOf(c: {
  tlsServerMode: string;
  tlsServerCertPath: string;
  tlsServerKeyPath: string;
  tlsServerTrustCertPath: string;
  tlsServerNeedClientAuth: boolean;
}): ServerTlsConfig | undefined {
  if (c.tlsServerMode === 'disabled') return undefined;
  return {
    mode: c.tlsServerMode as TlsServerMode,
    certPath: c.tlsServerCertPath,
    keyPath: c.tlsServerKeyPath,
    trustCertPath: c.tlsServerTrustCertPath,
    needClientAuth: c.tlsServerNeedClientAuth,
  };
}
