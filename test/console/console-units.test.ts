// Issue 16: the console's small parts on their own: the login check and sessions, the TPS sampler,
// trace records matched to one message, HTTP statuses of broker codes, where a console listens.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/common/logger.js';
import { MQBrokerError } from '../../src/client/index.js';
import { encodeTraceRecord } from '../../src/observability/trace/trace-codec.js';
import { ResponseCode } from '../../src/remoting/index.js';
import { ConsoleSessions, cookieValue, credentialsMatch } from '../../src/console/console-auth.js';
import { httpStatusOf, toConsoleError } from '../../src/console/console-error.js';
import { consoleBinding } from '../../src/console/console-role.js';
import { Cached, topicKind } from '../../src/console/cluster-view.js';
import { bodyPreview, traceEventsOf } from '../../src/console/message-view.js';
import { TpsSampler } from '../../src/console/tps-sampler.js';

void test('console auth - credentials match only when both user and password do', () => {
  const login = { user: 'ops', password: 'pa55' };
  assert.equal(credentialsMatch(login, 'ops', 'pa55'), true);
  for (const [u, p] of [['ops', 'pa5'], ['ops', 'pa555'], ['op', 'pa55'], ['', ''], ['OPS', 'pa55'], ['ops', 'PA55']]) {
    assert.equal(credentialsMatch(login, u, p), false, `${u}/${p}`);
  }
});

void test('console auth - sessions: a token per login, unknown and expired tokens refused, logout ends one', () => {
  const s = new ConsoleSessions({ user: 'ops', password: 'pa55' });
  assert.equal(s.open('ops', 'nope'), undefined);
  const t0 = 1_000_000;
  const a = s.open('ops', 'pa55', t0)!;
  const b = s.open('ops', 'pa55', t0)!;
  assert.match(a, /^[\w-]{43}$/);
  assert.notEqual(a, b);
  assert.equal(s.valid(a, t0 + 1000), true);
  assert.equal(s.valid('forged', t0), false);
  assert.equal(s.valid(undefined, t0), false);
  assert.equal(s.valid(a, t0 + 8 * 3600_000 + 1), false, 'expired after 8 h');
  assert.equal(s.valid(a, t0 + 1000), false, 'an expired token is forgotten');
  s.close(b);
  assert.equal(s.valid(b, t0 + 1000), false);
  const open = new ConsoleSessions(undefined);
  assert.equal(open.required, false);
  assert.equal(open.valid(undefined), true, 'no login configured: every request passes');
});

void test('console auth - the session cookie is read from a Cookie header among others', () => {
  assert.equal(cookieValue('a=1; apogee_console=tok%2Den; b=2', 'apogee_console'), 'tok-en');
  assert.equal(cookieValue('apogee_consoleX=1', 'apogee_console'), undefined);
  assert.equal(cookieValue(undefined, 'apogee_console'), undefined);
});

void test('console error - broker codes map to HTTP statuses; other failures are 502 with their first line', () => {
  assert.equal(httpStatusOf(ResponseCode.TOPIC_NOT_EXIST), 404);
  assert.equal(httpStatusOf(ResponseCode.INVALID_PARAMETER), 400);
  assert.equal(httpStatusOf(ResponseCode.NO_PERMISSION), 403);
  assert.equal(httpStatusOf(ResponseCode.REQUEST_CODE_NOT_SUPPORTED), 501);
  assert.equal(httpStatusOf(ResponseCode.SYSTEM_ERROR), 502);
  const e = toConsoleError(new MQBrokerError(ResponseCode.NO_PERMISSION, 'no write', '10.0.0.1:10911'));
  assert.deepEqual([e.statusCode, e.message, e.code], [403, '10.0.0.1:10911 answered NO_PERMISSION (16): no write', 16]);
  const n = toConsoleError(new MQBrokerError(ResponseCode.REQUEST_CODE_NOT_SUPPORTED, '', 'b:1'));
  assert.match(n.message, /^not available on this broker yet: b:1 answered/);
  const other = toConsoleError(new Error('connect ECONNREFUSED 127.0.0.1:1\n    at somewhere'));
  assert.deepEqual([other.statusCode, other.message], [502, 'connect ECONNREFUSED 127.0.0.1:1']);
});

void test('console role - without a login a wildcard host becomes loopback; a login keeps the host', () => {
  assert.deepEqual(consoleBinding('0.0.0.0', undefined), { host: '127.0.0.1', access: 'loopback-only' });
  assert.deepEqual(consoleBinding('::', undefined), { host: '127.0.0.1', access: 'loopback-only' });
  assert.deepEqual(consoleBinding('127.0.0.1', undefined), { host: '127.0.0.1', access: 'loopback-only' });
  assert.deepEqual(consoleBinding('0.0.0.0', { user: 'u', password: 'p' }), { host: '0.0.0.0', access: 'login' });
});

void test('console tps - rates are differences of totals over time; a failed reading or a restart leaves a gap', async () => {
  const totals = [
    { put: 100, get: 50 },
    { put: 300, get: 150 },
    new Error('broker down'),
    { put: 400, get: 150 },
    { put: 500, get: 250 },
    { put: 10, get: 5 },
    { put: 30, get: 5 },
  ];
  let i = 0;
  const s = new TpsSampler(
    async () => {
      const t = totals[i++];
      if (t instanceof Error) throw t;
      return t;
    },
    1000,
    silentLogger,
  );
  for (let k = 0; k < totals.length; k++) await s.sample(10_000 + k * 2000);
  assert.deepEqual(s.list(), [
    { t: 12_000, put: 100, get: 50 },
    { t: 18_000, put: 50, get: 50 },
    { t: 22_000, put: 10, get: 0 },
  ]);
});

void test('console trace - records of one message: client ones by id, broker deliveries and commits by queue offset, not the console’s own reads', () => {
  const m = { msgId: 'UNIQ1', offsetMsgId: 'OFF1', topic: 'T', queueId: 2, queueOffset: 7 };
  const body = [
    encodeTraceRecord({ type: 'Pub', timeStamp: 1, regionId: 'r', groupName: 'P', topic: 'T', msgId: 'UNIQ1', tags: 'a', keys: 'k', storeHost: 'h', bodyLength: 3, costTime: 4, msgType: 0, offsetMsgId: 'OFF1', success: true }),
    encodeTraceRecord({ type: 'Pub', timeStamp: 1, regionId: 'r', groupName: 'P', topic: 'T', msgId: 'OTHER', tags: 'a', keys: 'k', storeHost: 'h', bodyLength: 3, costTime: 4, msgType: 0, offsetMsgId: 'OFF2', success: true }),
    encodeTraceRecord({ type: 'BrokerDelivered', timeStamp: 5, group: 'G', topic: 'T', queueId: 2, offsets: '5-9', clientHost: 'c', kind: 'pull', protocol: 'remoting' }),
    encodeTraceRecord({ type: 'BrokerDelivered', timeStamp: 5, group: 'TOOLS_CONSUMER', topic: 'T', queueId: 2, offsets: '7', clientHost: 'console', kind: 'pull', protocol: 'remoting' }),
    encodeTraceRecord({ type: 'BrokerDelivered', timeStamp: 5, group: 'G2', topic: 'T', queueId: 2, offsets: '8-9', clientHost: 'c', kind: 'pull', protocol: 'remoting' }),
    encodeTraceRecord({ type: 'BrokerDelivered', timeStamp: 5, group: 'G3', topic: 'T', queueId: 3, offsets: '7', clientHost: 'c', kind: 'pop', protocol: 'grpc' }),
    encodeTraceRecord({ type: 'BrokerConsumed', timeStamp: 6, group: 'G', topic: 'T', queueId: 2, fromOffset: 7, toOffset: 8, kind: 'offset' }),
    encodeTraceRecord({ type: 'BrokerConsumed', timeStamp: 6, group: 'G2', topic: 'T', queueId: 2, fromOffset: 0, toOffset: 7, kind: 'offset' }),
    encodeTraceRecord({ type: 'BrokerDeadLettered', timeStamp: 9, group: 'G', originTopic: 'T', dlqTopic: '%DLQ%G', reconsumeTimes: 16, msgId: 'OFF1' }),
  ].join('');
  const ev = traceEventsOf(body, m, 'trace-host');
  assert.deepEqual(
    ev.map((e) => [e.type, e.group, e.timestamp, e.success]),
    [
      ['Pub', 'P', 1, true],
      ['Delivered', 'G', 5, true],
      ['Consumed', 'G', 6, true],
      ['DeadLettered', 'G', 9, false],
    ],
  );
  assert.equal(ev[0].costMs, 4);
  assert.equal(ev[1].clientHost, 'c');
});

void test('console messages - body preview: text, JSON when it parses, hex of the start', () => {
  assert.deepEqual(bodyPreview(Buffer.from('{"a":1}')), { text: '{"a":1}', json: { a: 1 }, hex: '7b2261223a317d', truncated: false });
  const bin = bodyPreview(Buffer.from([0, 255]));
  assert.equal(bin.json, undefined);
  assert.equal(bin.hex, '00ff');
  assert.equal(bodyPreview(Buffer.alloc(70 * 1024, 0x61)).truncated, true);
});

void test('console topics - kinds: retry, DLQ, system (including cluster and broker names), normal', () => {
  const names = new Set(['DefaultCluster', 'broker-a']);
  assert.equal(topicKind('%RETRY%G', names), 'retry');
  assert.equal(topicKind('%DLQ%G', names), 'dlq');
  assert.equal(topicKind('RMQ_SYS_TRACE_TOPIC', names), 'system');
  assert.equal(topicKind('rmq_sys_wheel_timer', names), 'system');
  assert.equal(topicKind('TBW102', names), 'system');
  assert.equal(topicKind('broker-a', names), 'system');
  assert.equal(topicKind('Orders', names), 'normal');
});

void test('console auth - ten wrong logins from one address within a minute refuse it for the rest of the minute', () => {
  const s = new ConsoleSessions({ user: 'ops', password: 'pa55' });
  const t0 = 5_000_000;
  for (let i = 0; i < 9; i++) s.failed('10.0.0.9', t0 + i);
  assert.equal(s.throttled('10.0.0.9', t0 + 100), false);
  s.failed('10.0.0.9', t0 + 100);
  assert.equal(s.throttled('10.0.0.9', t0 + 100), true);
  assert.equal(s.throttled('10.0.0.8', t0 + 100), false, 'another address is not');
  assert.equal(s.throttled('10.0.0.9', t0 + 60_001), false, 'a minute later');
});

void test('console tables - reused while fresh, answered while stale as a fresh one loads, a load begun before a write is not kept', async () => {
  const c = new Cached<number>(2000, 15_000);
  let n = 0;
  let release: (() => void) | undefined;
  const load = (): Promise<number> => {
    const v = ++n;
    return release === undefined ? Promise.resolve(v) : new Promise((res) => (release = () => res(v)));
  };
  const t0 = Date.now();
  assert.equal(await c.get(load, t0), 1);
  assert.equal(await c.get(load, t0 + 1000), 1, 'fresh: no load');
  assert.equal(n, 1);
  assert.equal(await c.get(load, t0 + 5000), 1, 'stale: answered at once');
  await new Promise((r) => setImmediate(r));
  assert.equal(n, 2, 'and reloaded behind');
  assert.equal(await c.get(load), 2);
  assert.equal(await c.get(load, Date.now() + 60_000), 3, 'too old: loaded before answering');
  // A slow load, then a write drops the table: what that load read is not kept.
  release = () => undefined;
  const slow = c.get(load, Date.now() + 60_000);
  const finish = release;
  c.drop();
  release = undefined;
  finish();
  assert.equal(await slow, 4);
  assert.equal(await c.get(load), 5, 'the value read before the drop was not stored');
});
