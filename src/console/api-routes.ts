// The console's JSON API under /api/: one route per operation, each with a JSON schema for its
// input, so bad input is a 400 naming the field before any broker is asked. Failures answer
// {"error": "..."} with the status of console-error.ts; never a stack.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../common/logger.js';
import { ConsoleError, toConsoleError } from './console-error.js';
import type { ConsoleSessions } from './console-auth.js';
import { checkAclLogin, type ConsoleSigner } from './console-acl.js';
import { MESSAGE_TYPES, type ClusterView } from './cluster-view.js';
import type { MessageExt } from '../client/index.js';
import { diagnoseMessage, type ConsoleDiagnosis } from './message-diagnosis.js';
import { bodyPreview, MAX_DLQ_BATCH, originTopicOf, summary, type MessageView } from './message-view.js';
import type { TpsSampler } from './tps-sampler.js';

export interface ApiDeps {
  cluster: ClusterView;
  messages: MessageView;
  sessions: ConsoleSessions;
  tps: TpsSampler;
  logger: Logger;
  /** Present when the cluster checks ACL: it signs the console's requests with the session's account. */
  signer?: ConsoleSigner;
}

const TOPIC = { type: 'string', pattern: '^[%|a-zA-Z0-9_-]{1,127}$' } as const;
const GROUP = { type: 'string', pattern: '^[%|a-zA-Z0-9_-]{1,255}$' } as const;
const CLUSTER = { type: 'string', minLength: 1, maxLength: 255 } as const;
const MSG_ID = { type: 'string', pattern: '^[0-9A-Fa-f]{16,64}$' } as const;
const TIME = { type: 'integer', minimum: 0, maximum: 8_640_000_000_000 } as const;
const PAGE = { page: { type: 'integer', minimum: 1, maximum: 100_000, default: 1 }, size: { type: 'integer', minimum: 1, maximum: 500, default: 50 } } as const;
const FILTER = { type: 'string', maxLength: 255 } as const;

const topicParams = { type: 'object', required: ['topic'], properties: { topic: TOPIC } } as const;
const groupParams = { type: 'object', required: ['group'], properties: { group: GROUP } } as const;

type Req<P = unknown, Q = unknown, B = unknown> = FastifyRequest<{ Params: P; Querystring: Q; Body: B }>;

const PROGRAMMING_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError];

export function registerApiRoutes(api: FastifyInstance, d: ApiDeps): void {
  api.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) return reply.code(400).send({ error: `bad input: ${err.message}` });
    if (!(err instanceof ConsoleError) && err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.message.split('\n')[0] });
    }
    if (PROGRAMMING_ERRORS.some((C) => err instanceof C)) {
      d.logger.error({ err, url: req.url }, 'console API failed');
      return reply.code(500).send({ error: `internal error: ${err.message.split('\n')[0]}` });
    }
    const e = toConsoleError(err);
    if (e.statusCode >= 500 && e.statusCode !== 501) d.logger.warn({ err, url: req.url }, 'console API request to the cluster failed');
    return reply.code(e.statusCode).send({ error: e.message, ...(e.code !== undefined ? { code: e.code } : {}) });
  });
  api.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no API route ${req.method} ${req.url.split('?')[0]}` }));

  // Everything but the session routes needs a session when a login is configured.
  api.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0];
    if (path === '/api/login' || path === '/api/session') return;
    const token = d.sessions.tokenOf(req);
    if (!d.sessions.valid(token)) return reply.code(401).send({ error: 'login required' });
    d.signer?.use(d.sessions.aclOf(token));
  });

  registerSessionRoutes(api, d);
  registerClusterRoutes(api, d);
  registerTopicRoutes(api, d);
  registerGroupRoutes(api, d);
  registerMessageRoutes(api, d);
  registerDlqRoutes(api, d);
}

function registerSessionRoutes(api: FastifyInstance, d: ApiDeps): void {
  api.get('/session', async (req) => ({ loginRequired: d.sessions.required, loggedIn: d.sessions.valid(d.sessions.tokenOf(req)), aclLogin: d.sessions.acl }));
  api.post(
    '/login',
    {
      schema: {
        body: {
          type: 'object',
          required: ['user', 'password'],
          properties: { user: { type: 'string', maxLength: 256 }, password: { type: 'string', maxLength: 1024 } },
        },
      },
    },
    async (req: Req<unknown, unknown, { user: string; password: string }>, reply) => {
      if (!d.sessions.required) return reply.code(400).send({ error: 'this console has no login configured (consoleUser/consolePassword)' });
      if (d.sessions.throttled(req.ip)) return reply.code(429).send({ error: 'too many wrong logins from this address: try again in a minute' });
      let token = d.sessions.open(req.body.user, req.body.password);
      if (!token && d.sessions.acl && req.body.user !== '' && req.body.password !== '') {
        const acl = { accessKey: req.body.user, secretKey: req.body.password };
        const masters = await d.cluster.masters();
        if (masters.length === 0) return reply.code(503).send({ error: 'no master broker online to check the ACL account with' });
        const r = await checkAclLogin((addr, cmd) => d.cluster.admin.api.remoting.invoke(addr, cmd, d.cluster.admin.api.timeoutMs), masters[0].addr, acl);
        if (r.ok) {
          token = d.sessions.openAcl(acl);
          d.signer?.use(acl);
          d.cluster.forgetTables();
        }
        else if (r.status !== 401) return reply.code(r.status).send({ error: r.error });
      }
      if (!token) {
        d.sessions.failed(req.ip);
        return reply.code(401).send({ error: 'wrong user or password' });
      }
      d.sessions.setCookie(reply, token);
      return { ok: true };
    },
  );
  api.post('/logout', async (req, reply) => {
    d.signer?.forget(d.sessions.aclOf(d.sessions.tokenOf(req)));
    d.sessions.close(d.sessions.tokenOf(req));
    d.sessions.clearCookie(reply);
    return { ok: true };
  });
}

function registerClusterRoutes(api: FastifyInstance, d: ApiDeps): void {
  api.get('/cluster', async () => d.cluster.cluster());
  api.get('/tps', async () => ({ intervalMs: d.tps.intervalMs, samples: d.tps.list() }));
  api.get('/alarms', async () => d.cluster.alarms());
}

function registerTopicRoutes(api: FastifyInstance, d: ApiDeps): void {
  api.get(
    '/topics',
    { schema: { querystring: { type: 'object', properties: { filter: FILTER, kind: { type: 'string', enum: ['all', 'normal', 'retry', 'dlq', 'system'] }, ...PAGE } } } },
    async (req: Req<unknown, { filter?: string; kind?: string; page: number; size: number }>) => d.cluster.topics(req.query),
  );
  api.post(
    '/topics',
    {
      schema: {
        body: {
          type: 'object',
          required: ['topic'],
          additionalProperties: false,
          properties: {
            topic: TOPIC,
            cluster: CLUSTER,
            readQueueNums: { type: 'integer', minimum: 1, maximum: 1024, default: 8 },
            writeQueueNums: { type: 'integer', minimum: 1, maximum: 1024, default: 8 },
            perm: { type: 'integer', enum: [2, 4, 6], default: 6 },
            order: { type: 'boolean', default: false },
            messageType: { type: 'string', enum: [...MESSAGE_TYPES] },
          },
        },
      },
    },
    async (req: Req<unknown, unknown, Parameters<ClusterView['upsertTopic']>[0]>) => ({ ok: true, ...(await d.cluster.upsertTopic(req.body)) }),
  );
  api.get('/topics/:topic', { schema: { params: topicParams } }, async (req: Req<{ topic: string }>) => d.cluster.topic(req.params.topic));
  api.delete(
    '/topics/:topic',
    { schema: { params: topicParams, querystring: { type: 'object', properties: { cluster: CLUSTER } } } },
    async (req: Req<{ topic: string }, { cluster?: string }>) => ({ ok: true, ...(await d.cluster.deleteTopic(req.params.topic, req.query.cluster)) }),
  );
  api.post(
    '/topics/:topic/messages',
    {
      schema: {
        params: topicParams,
        body: {
          type: 'object',
          required: ['body'],
          additionalProperties: false,
          properties: { body: { type: 'string', maxLength: 4 * 1024 * 1024 }, tags: { type: 'string', maxLength: 255 }, keys: { type: 'string', maxLength: 1024 } },
        },
      },
    },
    async (req: Req<{ topic: string }, unknown, { body: string; tags?: string; keys?: string }>) => d.messages.sendTest(req.params.topic, req.body),
  );
}

function registerGroupRoutes(api: FastifyInstance, d: ApiDeps): void {
  api.get(
    '/groups',
    { schema: { querystring: { type: 'object', properties: { filter: FILTER, ...PAGE } } } },
    async (req: Req<unknown, { filter?: string; page: number; size: number }>) => d.cluster.groups(req.query),
  );
  api.post(
    '/groups',
    {
      schema: {
        body: {
          type: 'object',
          required: ['group'],
          additionalProperties: false,
          properties: {
            group: GROUP,
            cluster: CLUSTER,
            consumeEnable: { type: 'boolean' },
            orderly: { type: 'boolean' },
            broadcast: { type: 'boolean' },
            retryMaxTimes: { type: 'integer', minimum: 0, maximum: 16 },
          },
        },
      },
    },
    async (req: Req<unknown, unknown, Parameters<ClusterView['upsertGroup']>[0]>) => ({ ok: true, ...(await d.cluster.upsertGroup(req.body)) }),
  );
  api.get('/groups/:group', { schema: { params: groupParams } }, async (req: Req<{ group: string }>) => d.cluster.group(req.params.group));
  api.delete(
    '/groups/:group',
    { schema: { params: groupParams, querystring: { type: 'object', properties: { cluster: CLUSTER, removeOffsets: { type: 'boolean', default: false } } } } },
    async (req: Req<{ group: string }, { cluster?: string; removeOffsets: boolean }>) => ({
      ok: true,
      ...(await d.cluster.deleteGroup(req.params.group, req.query.cluster, req.query.removeOffsets)),
    }),
  );
  api.post(
    '/groups/:group/reset-offset',
    { schema: { params: groupParams, body: { type: 'object', required: ['topic', 'timestamp'], additionalProperties: false, properties: { topic: TOPIC, timestamp: TIME } } } },
    async (req: Req<{ group: string }, unknown, { topic: string; timestamp: number }>) => ({
      ok: true,
      ...(await d.cluster.resetOffset(req.params.group, req.body.topic, req.body.timestamp)),
    }),
  );
}

function registerMessageRoutes(api: FastifyInstance, d: ApiDeps): void {
  api.get(
    '/messages/by-key',
    { schema: { querystring: { type: 'object', required: ['topic', 'key'], properties: { topic: TOPIC, key: { type: 'string', minLength: 1, maxLength: 1024 }, begin: TIME, end: TIME } } } },
    async (req: Req<unknown, { topic: string; key: string; begin?: number; end?: number }>) => ({ items: await d.messages.byKey(req.query.topic, req.query.key, req.query.begin, req.query.end) }),
  );
  api.get(
    '/messages/by-time',
    { schema: { querystring: { type: 'object', required: ['topic', 'begin', 'end'], properties: { topic: TOPIC, begin: TIME, end: TIME, ...PAGE } } } },
    async (req: Req<unknown, { topic: string; begin: number; end: number; page: number; size: number }>) =>
      d.messages.byTime(req.query.topic, req.query.begin, req.query.end, req.query.page, req.query.size),
  );
  api.get(
    '/messages/by-id',
    { schema: { querystring: { type: 'object', required: ['id'], properties: { id: MSG_ID, topic: TOPIC } } } },
    async (req: Req<unknown, { id: string; topic?: string }>) => ({ items: [summary(await d.messages.byId(req.query.id, req.query.topic))] }),
  );
  api.get(
    '/messages/:id',
    { schema: { params: { type: 'object', required: ['id'], properties: { id: MSG_ID } }, querystring: { type: 'object', properties: { topic: TOPIC } } } },
    async (req: Req<{ id: string }, { topic?: string }>) => {
      const m = await d.messages.byId(req.params.id, req.query.topic);
      const trace = await d.messages.trace(m);
      return {
        message: { ...summary(m), originTopic: originTopicOf(m), properties: m.properties, bornHost: m.bornHost, storeHost: m.storeHost, commitLogOffset: m.commitLogOffset, sysFlag: m.sysFlag },
        body: bodyPreview(m.body),
        trace,
        diagnosis: await diagnosisOf(d, m),
      };
    },
  );
  api.post(
    '/messages/:id/resend',
    {
      schema: {
        params: { type: 'object', required: ['id'], properties: { id: MSG_ID } },
        body: { type: 'object', additionalProperties: false, properties: { topic: TOPIC, group: GROUP } },
      },
    },
    async (req: Req<{ id: string }, unknown, { topic?: string; group?: string } | undefined>) => ({ ok: true, ...(await d.messages.resend(req.params.id, req.body?.topic, req.body?.group)) }),
  );
}

/** A failed diagnosis leaves the rest of the detail page standing and says why. */
async function diagnosisOf(d: ApiDeps, m: MessageExt): Promise<ConsoleDiagnosis> {
  try {
    return await diagnoseMessage(d.cluster, m.msgId, m.topic);
  } catch (err) {
    if (PROGRAMMING_ERRORS.some((C) => err instanceof C)) throw err;
    d.logger.warn({ err, msgId: m.msgId }, 'message diagnosis failed');
    return { available: false, reason: `diagnosis failed: ${toConsoleError(err).message}` };
  }
}

function registerDlqRoutes(api: FastifyInstance, d: ApiDeps): void {
  api.get('/dlq', async () => ({ items: await d.messages.dlqGroups() }));
  api.get(
    '/dlq/:group',
    { schema: { params: groupParams, querystring: { type: 'object', properties: PAGE } } },
    async (req: Req<{ group: string }, { page: number; size: number }>) => d.messages.dlqPage(req.params.group, req.query.page, req.query.size),
  );
  api.get('/dlq/:group/export', { schema: { params: groupParams } }, async (req: Req<{ group: string }>, reply) => {
    const msgs = await d.messages.dlqMessages(req.params.group, MAX_DLQ_BATCH);
    const lines = msgs.map((m) => JSON.stringify({ ...summary(m), originTopic: originTopicOf(m), properties: m.properties, body: m.body.toString('utf8'), bodyBase64: m.body.toString('base64') }));
    return reply
      .type('application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="dlq-${req.params.group}.jsonl"`)
      .send(lines.length > 0 ? `${lines.join('\n')}\n` : '');
  });
  api.post(
    '/dlq/:group/resend',
    {
      schema: {
        params: groupParams,
        body: { type: 'object', additionalProperties: false, properties: { ids: { type: 'array', minItems: 1, maxItems: MAX_DLQ_BATCH, items: MSG_ID }, all: { type: 'boolean' } } },
      },
    },
    async (req: Req<{ group: string }, unknown, { ids?: string[]; all?: boolean }>) => {
      const b = req.body ?? {};
      if (!b.ids && b.all !== true) throw new ConsoleError(400, 'give "ids" (the dead letters to resend) or "all": true');
      return { ok: true, ...(await d.messages.dlqResend(req.params.group, b.ids)) };
    },
  );
}
