// A standalone (name server, broker, gRPC endpoint, console) started in-process through the real
// role starter on port 0, and a small JSON client for its /api/ routes that keeps the session cookie.
import { ROLE_STARTERS } from '../../src/cli/roles.js';
import { silentLogger } from '../../src/common/logger.js';
import { loadConfig, type RoleHandle } from '../../src/config/index.js';
import type { Standalone } from '../helpers/standalone.js';
import { tempDir } from '../helpers/temp-dir.js';

export interface ConsoleStandalone {
  /** "host:port" of the HTTP listener. */
  http: string;
  base: string;
  namesrvAddr: string;
  brokerAddr: string;
  grpc: string;
  addresses: Record<string, string>;
  /** The fields the client harnesses (OnsHarness) read. */
  asStandalone: Standalone;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startConsoleStandalone(extra: Record<string, string | number | boolean> = {}): Promise<ConsoleStandalone> {
  const dir = tempDir('apogee-console-');
  const config = loadConfig('standalone', {
    flags: {
      namesrvPort: 0,
      listenPort: 0,
      grpcServerPort: 0,
      httpPort: 0,
      host: '127.0.0.1',
      brokerIP1: '127.0.0.1',
      storePathRootDir: dir.path,
      mappedFileSizeCommitLog: 64 * 1024 * 1024,
      consoleSampleIntervalMs: 300,
      ...extra,
    },
  });
  let handles: RoleHandle[];
  try {
    handles = await ROLE_STARTERS.standalone(config, { logger: silentLogger });
  } catch (err) {
    dir[Symbol.dispose]();
    throw err;
  }
  const addresses: Record<string, string> = Object.assign({}, ...handles.map((h) => h.addresses));
  const close = async (): Promise<void> => {
    for (const h of [...handles].reverse()) await h.close();
    dir[Symbol.dispose]();
  };
  return {
    http: addresses.http,
    base: `http://${addresses.http}`,
    namesrvAddr: addresses.namesrv,
    brokerAddr: addresses.broker,
    grpc: addresses.grpc,
    addresses,
    asStandalone: { namesrvAddr: addresses.namesrv, brokerAddr: addresses.broker } as Standalone,
    close,
    [Symbol.asyncDispose]: close,
  };
}

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** fetch against /api/ with JSON in and out; remembers the session cookie a login sets. */
export class ApiClient {
  cookie: string | undefined;

  constructor(readonly base: string) {}

  async call<T = any>(method: string, path: string, body?: unknown, rawBody?: string): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = {};
    if (body !== undefined || rawBody !== undefined) headers['content-type'] = 'application/json';
    if (this.cookie) headers.cookie = this.cookie;
    const r = await fetch(`${this.base}/api${path}`, { method, headers, body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)) });
    const set = r.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0];
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // export answers JSON Lines, not JSON
    }
    return { status: r.status, body: parsed as T, headers: r.headers };
  }

  get<T = any>(path: string): Promise<ApiAnswer<T>> {
    return this.call<T>('GET', path);
  }

  post<T = any>(path: string, body?: unknown): Promise<ApiAnswer<T>> {
    return this.call<T>('POST', path, body ?? {});
  }

  del<T = any>(path: string): Promise<ApiAnswer<T>> {
    return this.call<T>('DELETE', path);
  }
}
