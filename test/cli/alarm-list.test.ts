// Issue 14: `apogee admin alarmList` (the real command, spawned) prints every rule of every broker
// with each alarm's state, and says when a change of the rules file was refused; `apogee broker`
// with a malformed rules file exits 2 naming the line and the cause.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { messageProperties2String } from '../../src/common/index.js';
import { GET_ALARM_LIST, type AlarmListBody } from '../../src/observability/alarms/index.js';
import { bodyOf, createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { createTopic } from '../compat/helpers/ali-ons.js';
import { checkFor } from '../helpers/check-for.js';
import { runApogee } from '../helpers/spawn-apogee.js';
import { startStandalone } from '../helpers/standalone.js';
import { tempDir } from '../helpers/temp-dir.js';

const TOPIC = 'AlarmCliTopic';
const GROUP = 'GID_alarm_cli';

/** The table's rows as cells (columns are padded with two spaces or more; cells hold single spaces). */
const rowsOf = (stdout: string): string[][] =>
  stdout
    .split('\n')
    .filter((l) => /^broker-a {2,}/.test(l))
    .map((l) => l.split(/ {2,}/));

void test('alarm list cli - issue 14: apogee admin alarmList shows each rule and alarm state, and a refused change of the file', async () => {
  using dir = tempDir('apogee-alarm-cli-');
  const file = join(dir.path, 'alarms.yml');
  writeFileSync(
    file,
    `rules:
  - name: lag
    type: consumerLag
    group: ${GROUP}
    topic: ${TOPIC}
    threshold: 1
  - name: gone
    type: brokerDown
    for: 1m
  - name: dead
    type: dlqMessages
    group: ${GROUP}
    threshold: 0
  - name: old
    type: consumerLagLatency
    group: NoSuchGroup
    threshold: 10m
`,
  );
  await using s = await startStandalone({ alarmRulesFile: file, alarmEvaluateIntervalMs: 200 });
  await createTopic(s, TOPIC, 1);
  const rc = new RemotingClient();
  try {
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
    const list = async (): Promise<AlarmListBody> => JSON.parse(bodyOf(await rc.invoke(s.brokerAddr, createRequest(GET_ALARM_LIST))).toString()) as AlarmListBody;
    await checkFor(5000, 20, async () => (await list()).rules.find((r) => r.name === 'lag')?.alarms[0]?.state === 'firing', 'the lag alarm firing');

    const [all, unknownCluster] = await Promise.all([
      runApogee(['admin', 'alarmList', '-n', s.namesrvAddr]),
      runApogee(['admin', 'alarmList', '-n', s.namesrvAddr, '-c', 'NoSuchCluster']),
    ]);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.split('\n');
    assert.match(lines[0], /^#Broker {2,}#Rule {2,}#Type {2,}#Scope {2,}#State {2,}#Since {2,}#Value {2,}#Threshold {2,}#For$/);
    const rows = rowsOf(all.stdout);
    const row = (rule: string) => rows.find((r) => r[1] === rule);
    const lag = row('lag')!;
    assert.deepEqual([lag[2], lag[3], lag[4], lag[6], lag[7], lag[8]], ['consumerLag', `group=${GROUP} topic=${TOPIC}`, 'firing', '3', '1', '0s']);
    assert.match(lag[5], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const gone = row('gone')!;
    assert.deepEqual([gone[2], gone[3], gone[4], gone[6], gone[7], gone[8]], ['brokerDown', 'cluster=DefaultCluster broker=broker-a brokerId=0', 'ok', 'listed', '-', '1m']);
    const dead = row('dead')!;
    assert.deepEqual([dead[3], dead[4], dead[6], dead[7]], [`group=${GROUP}`, 'ok', '0', '0']);
    // A rule with nothing to observe yet still shows, as ok.
    assert.deepEqual(row('old'), ['broker-a', 'old', 'consumerLagLatency', 'group=NoSuchGroup', 'ok', '-', '-', '600s', '0s']);
    assert.match(all.stdout, new RegExp(`^broker-a \\(${s.brokerAddr}\\): rules from .*alarms\\.yml, loaded .*, evaluated every 200ms, last at \\d{4}-`, 'm'));

    assert.equal(unknownCluster.code, 1);
    assert.match(unknownCluster.stderr, /cluster NoSuchCluster is not registered in the name server \(known: DefaultCluster\)/);

    // A malformed rewrite: the broker keeps its rules and alarmList says what was refused.
    writeFileSync(file, 'rules:\n  - name: lag\n    type: consumerLag\n    threshold: 1\n    for: soon\n');
    await checkFor(5000, 20, async () => (await list()).reloadError !== undefined, 'the refusal');
    const after = await runApogee(['admin', 'alarmList', '-n', s.namesrvAddr, '-b', s.brokerAddr]);
    assert.equal(after.code, 0, after.stderr);
    assert.equal(rowsOf(after.stdout).length, 4, 'the four rules stay in force');
    assert.match(after.stdout, /a change of .*alarms\.yml was refused at .* and the rules before it stay in force: line 5: rule "lag": for must be a duration like 30s, 5m or 1h30m, got "soon"/);
  } finally {
    await rc.close();
  }
});

void test('alarm list cli - apogee broker with a malformed alarm rules file exits 2 naming the line and the cause', async () => {
  using dir = tempDir('apogee-alarm-cli-');
  const file = join(dir.path, 'bad.yml');
  writeFileSync(file, 'webhooks:\n  - name: ops\n    url: http://127.0.0.1:1/hook\nrules:\n  - name: x\n    type: diskUsage\n    threshold: 90\n    notify: [pager]\n');
  const r = await runApogee(['broker', '--listenPort', '0', '--grpcServerPort', '0', '--storePathRootDir', join(dir.path, 'store'), '--alarmRulesFile', file]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^apogee broker: invalid configuration:\n {2}alarmRulesFile .*bad\.yml line 8: rule "x": notify names unknown webhook "pager" \(webhooks: ops\)\n$/);
  assert.equal(r.stdout, '', 'no ready line');
});
