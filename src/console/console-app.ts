// The web console on an HTTP listener: the JSON API under /api/, the single-page app's files
// (hand-written HTML/CSS/JS in ./web, no build step) and uPlot's files from node_modules. It reads
// the cluster through its name servers only, so standalone and `apogee console` run the same code.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from '../common/logger.js';
import { registerApiRoutes } from './api-routes.js';
import { ConsoleSigner } from './console-acl.js';
import { ConsoleSessions, type ConsoleLogin } from './console-auth.js';
import { ClusterView } from './cluster-view.js';
import { MessageView } from './message-view.js';
import { TpsSampler } from './tps-sampler.js';

export interface ConsoleAppOptions {
  namesrvAddr: string;
  /** Absent = no login (the caller binds to loopback). */
  login?: ConsoleLogin;
  sampleIntervalMs: number;
  logger: Logger;
  /** The cluster checks ACL (aclEnable): its admin accounts log in, and the console signs with them. */
  acl?: boolean;
}

export interface ConsoleApp {
  readonly cluster: ClusterView;
  readonly tps: TpsSampler;
  close(): Promise<void>;
}

/** How long after the last API request the console keeps its tables fresh. */
const WARM_WHILE_USED_MS = 60_000;
/** Within the tables' 15 s stale window, so a page in use never waits for a whole table. */
const WARM_EVERY_MS = 5000;

/** ./web beside this file; from a compiled dist/ the sources' copy (tsc copies no assets). */
function webDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [join(here, 'web'), join(here, '..', '..', 'src', 'console', 'web')]) if (existsSync(join(dir, 'index.html'))) return dir;
  throw new Error(`the console's web files are missing (looked in ${join(here, 'web')})`);
}

const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

function loadAssets(): Map<string, { type: string; body: Buffer }> {
  const dir = webDir();
  const out = new Map<string, { type: string; body: Buffer }>();
  for (const [name, type] of Object.entries(ASSETS)) out.set(name, { type, body: readFileSync(join(dir, name)) });
  const uplotDist = dirname(createRequire(import.meta.url).resolve('uplot'));
  out.set('vendor/uPlot.iife.min.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(join(uplotDist, 'uPlot.iife.min.js')) });
  out.set('vendor/uPlot.min.css', { type: 'text/css; charset=utf-8', body: readFileSync(join(uplotDist, 'uPlot.min.css')) });
  return out;
}

/** Adds the console to app (before it listens) and starts its TPS sampler. */
export async function mountConsole(app: FastifyInstance, opts: ConsoleAppOptions): Promise<ConsoleApp> {
  const assets = loadAssets();
  const signer = opts.acl ? new ConsoleSigner() : undefined;
  const cluster = new ClusterView(opts.namesrvAddr, opts.logger, signer?.hook);
  const messages = new MessageView(cluster, opts.namesrvAddr, opts.logger, signer?.hook);
  const sessions = new ConsoleSessions(opts.login, opts.acl);
  const tps = new TpsSampler(() => cluster.totals(), opts.sampleIntervalMs, opts.logger);
  // While someone uses the console, the topic and group tables are kept fresh behind it, so a page
  // of a cluster with 10,000 topics answers from a table instead of fetching every broker's.
  let lastUse = 0;
  app.addHook('onRequest', async (req) => {
    if (req.url.startsWith('/api/')) lastUse = Date.now();
  });
  const warmer = setInterval(() => {
    if (Date.now() - lastUse < WARM_WHILE_USED_MS) cluster.warm();
  }, WARM_EVERY_MS);
  warmer.unref();
  await app.register(async (api) => registerApiRoutes(api, { cluster, messages, sessions, tps, logger: opts.logger, signer }), { prefix: '/api' });
  const serve = (name: string) => async (_req: unknown, reply: FastifyReply) => {
    const a = assets.get(name)!;
    return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
  };
  app.get('/', serve('index.html'));
  for (const name of assets.keys()) if (name !== 'index.html') app.get(`/${name}`, serve(name));
  tps.start();
  return {
    cluster,
    tps,
    close: async () => {
      clearInterval(warmer);
      await tps.stop();
      await messages.close();
      await cluster.close();
    },
  };
}
