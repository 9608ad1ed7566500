// The HTTP listener of every role that serves one (httpPort): Prometheus text on GET /metrics now,
// the console's JSON API and pages (issue 16, console-app.ts), all on one fastify instance.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { silentLogger, type Logger } from '../common/logger.js';

export interface HttpServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  logger?: Logger;
  /** What GET /metrics serves; absent when metricsEnable is false (the route then answers 404 saying so). */
  registry?: Registry;
  /** Routes added before the listener opens (fastify takes no routes after listen): the console's pages and API. */
  setup?: (app: FastifyInstance) => Promise<void> | void;
}

export interface HttpServerHandle {
  /** "host:port" to connect to (127.0.0.1 when bound to every interface). */
  readonly address: string;
  /** The fastify instance (routes are added through setup, before it listens). */
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServerHandle> {
  const logger = opts.logger ?? silentLogger;
  // Fastify's own request log would print a line per scrape; errors are logged below instead.
  const app = Fastify({ logger: false });
  const registry = opts.registry;
  app.get('/metrics', async (_req, reply) => {
    if (!registry) {
      return reply.code(404).type('text/plain; charset=utf-8').send('metrics are off on this node (metricsEnable=false)\n');
    }
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) logger.error({ err, url: req.url }, 'HTTP request failed');
    void reply.code(status).type('text/plain; charset=utf-8').send(`${err.message.split('\n')[0]}\n`);
  });
  await opts.setup?.(app);
  const host = opts.host ?? '0.0.0.0';
  await app.listen({ host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  const connectHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  let closing: Promise<void> | undefined;
  return {
    address: `${connectHost}:${port}`,
    app,
    close: () => (closing ??= app.close()),
  };
}
