// A real HTTP server on 127.0.0.1 port 0 that records the webhook notifications it gets, and can
// answer the first N of them with an error (to see retries).
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertmanagerPayload } from '../../src/observability/alarms/webhook.js';

export interface HookRequest {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: AlertmanagerPayload;
  answered: number;
}

export interface HookServer extends AsyncDisposable {
  /** Base URL; append a path ("/hook"). */
  url: string;
  /** Every request in arrival order, failed ones included. */
  requests: HookRequest[];
  /** Requests that were answered 200. */
  accepted(): AlertmanagerPayload[];
  close(): Promise<void>;
}

export async function startHookServer(opts: { failFirst?: number; failStatus?: number } = {}): Promise<HookServer> {
  const requests: HookRequest[] = [];
  let toFail = opts.failFirst ?? 0;
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (raw += d));
    req.on('end', () => {
      const answered = toFail > 0 ? (opts.failStatus ?? 500) : 200;
      if (toFail > 0) toFail--;
      let body: AlertmanagerPayload;
      try {
        body = JSON.parse(raw) as AlertmanagerPayload;
      } catch {
        body = {} as AlertmanagerPayload;
      }
      requests.push({ at: Date.now(), path: req.url ?? '', headers: req.headers, raw, body, answered });
      res.writeHead(answered, { 'content-type': 'text/plain' }).end(answered === 200 ? 'ok' : 'try again');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    accepted: () => requests.filter((r) => r.answered === 200).map((r) => r.body),
    close,
    [Symbol.asyncDispose]: close,
  };
}
