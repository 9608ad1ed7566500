// Issue 14: the alarm rules file is reloaded when it changes (written in place or replaced by a
// rename, as editors do); a malformed rewrite is refused with its line and cause and the rules in
// force stay; a malformed file at startup refuses the start.
import assert from 'node:assert/strict';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { messageProperties2String } from '../../src/common/index.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { startBroker } from '../../src/broker/index.js';
import { GET_ALARM_LIST, type AlarmListBody } from '../../src/observability/alarms/index.js';
import { bodyOf, createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { createTopic } from '../compat/helpers/ali-ons.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';
import { tempDir } from '../helpers/temp-dir.js';
import { startHookServer } from './alarms-hook-server.js';

const TOPIC = 'AlarmReloadTopic';
const GROUP = 'GID_alarm_reload';

async function alarmList(rc: RemotingClient, s: Standalone): Promise<AlarmListBody> {
  const r = await rc.invoke(s.brokerAddr, createRequest(GET_ALARM_LIST));
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  return JSON.parse(bodyOf(r).toString()) as AlarmListBody;
}

const lagRules = (hook: string, threshold: number | string, extra = ''): string => `webhooks:
  - name: ops
    url: ${hook}
    backoff: 50ms
rules:
  - name: lag
    type: consumerLag
    group: ${GROUP}
    topic: ${TOPIC}
    threshold: ${threshold}
    notify: [ops]
${extra}`;

void test('alarms reload - issue 14: a rewritten file changes the rules within seconds; a malformed rewrite keeps the rules in force', async () => {
  using dir = tempDir('apogee-alarms-');
  await using hooks = await startHookServer();
  const hook = `${hooks.url}/hook`;
  const file = join(dir.path, 'alarms.yml');
  writeFileSync(file, lagRules(hook, 1));
  await using s = await startStandalone({ alarmRulesFile: file, alarmEvaluateIntervalMs: 100 });
  const rc = new RemotingClient();
  try {
    await createTopic(s, TOPIC, 1);
    for (let i = 0; i < 3; i++) {
      const r = await rc.invoke(
        s.brokerAddr,
        createRequest(
          RequestCode.SEND_MESSAGE,
          { producerGroup: 'pg', topic: TOPIC, queueId: 0, sysFlag: 0, bornTimestamp: Date.now(), flag: 0, properties: messageProperties2String({ TAGS: 'a' }) },
          Buffer.from(`m${i}`),
        ),
      );
      assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    }
    await checkFor(5000, 20, () => hooks.accepted().some((p) => p.status === 'firing'), 'lag 3 > threshold 1 fires');
    const first = await alarmList(rc, s);
    assert.equal(first.source, file);

    // An editor's save: a new file renamed over the old one. Threshold 10: the same alarm (kept
    // firing, not re-sent), then resolved by the new threshold; a second rule appears.
    const changedAt = Date.now();
    writeFileSync(`${file}.tmp`, lagRules(hook, 10, '  - name: disk\n    type: diskUsage\n    threshold: 100\n'));
    renameSync(`${file}.tmp`, file);
    const reloaded = await checkFor(5000, 20, async () => {
      const l = await alarmList(rc, s);
      return l.rules.length === 2 ? l : undefined;
    }, 'the new rules in force');
    assert.ok(Date.now() - changedAt < 5000);
    assert.deepEqual(reloaded.rules.map((r) => [r.name, r.type, r.threshold]), [
      ['lag', 'consumerLag', 10],
      ['disk', 'diskUsage', 100],
    ]);
    assert.ok(reloaded.loadedAt >= changedAt);
    await checkFor(5000, 20, () => hooks.accepted().some((p) => p.status === 'resolved'), 'lag 3 <= 10 resolves');
    assert.deepEqual(hooks.accepted().map((p) => p.status), ['firing', 'resolved'], 'the reload itself sent nothing');

    // Malformed rewrites: refused with line and cause, the rules in force stay.
    const refused = async (text: string, what: RegExp): Promise<void> => {
      const before = await alarmList(rc, s);
      writeFileSync(file, text);
      const l = await checkFor(5000, 20, async () => {
        const now = await alarmList(rc, s);
        return now.reloadError && now.reloadError.at > (before.reloadError?.at ?? 0) ? now : undefined;
      }, 'the refusal');
      assert.match(l.reloadError!.message, what);
      assert.deepEqual(l.rules.map((r) => [r.name, r.threshold]), [
        ['lag', 10],
        ['disk', 100],
      ], 'the previous rules stay in force');
      assert.equal(l.loadedAt, reloaded.loadedAt);
    };
    await refused(lagRules(hook, 'lots'), /^line 10: rule "lag": threshold \(messages\) must be an integer 0\.\.\d+, got "lots"$/);
    await refused('rules:\n  - name: lag\n   type: consumerLag\n', /^line 3: YAML: Sequence item without - indicator$/);
    await refused(lagRules(hook, 1).replace('type: consumerLag', 'type: consumerlag'), /^line 7: rule "lag": unknown type "consumerlag"/);
    await refused(lagRules(hook, 1).replace('notify: [ops]', 'notify: [opps]'), /^line 11: rule "lag": notify names unknown webhook "opps" \(webhooks: ops\)$/);

    // Putting the rules in force back clears the error without touching the alarms.
    writeFileSync(file, lagRules(hook, 10, '  - name: disk\n    type: diskUsage\n    threshold: 100\n'));
    const back = await checkFor(5000, 20, async () => {
      const l = await alarmList(rc, s);
      return l.reloadError === undefined ? l : undefined;
    }, 'the error cleared');
    assert.equal(back.loadedAt, reloaded.loadedAt, 'the same text: nothing re-applied');
  } finally {
    await rc.close();
  }
});

void test('alarms reload - a malformed or missing rules file at startup refuses the start, naming the line and the cause', async () => {
  using dir = tempDir('apogee-alarms-');
  const file = join(dir.path, 'bad.yml');
  writeFileSync(file, 'rules:\n  - name: x\n    type: diskUsage\n    threshold: 90\n    for: 30\n');
  // Nothing is opened before the file is read: no port, no store.
  const broker = (alarmRulesFile: string) =>
    startBroker(loadConfig('broker', { flags: { host: '127.0.0.1', listenPort: 0, storePathRootDir: join(dir.path, 'store'), alarmRulesFile } }));
  await assert.rejects(broker(file), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.problems[0].line, 5);
    assert.match(err.message, /alarmRulesFile .*bad\.yml line 5: rule "x": for must be a duration like 30s, 5m or 1h30m, got 30/);
    return true;
  });
  await assert.rejects(broker(join(dir.path, 'none.yml')), /alarmRulesFile .*none\.yml: cannot read the file: ENOENT/);
  assert.equal(existsSync(join(dir.path, 'store')), false, 'the store was never opened');
});

void test('alarms reload - with alarmEvaluateIntervalMs 0 alarms are off and the broker says so', async () => {
  await using s = await startStandalone({ alarmEvaluateIntervalMs: 0 });
  const rc = new RemotingClient();
  try {
    const l = await alarmList(rc, s);
    assert.equal(l.enabled, false);
    assert.deepEqual(l.rules, []);
  } finally {
    await rc.close();
  }
});
