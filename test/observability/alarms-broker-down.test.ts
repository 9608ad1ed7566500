// Issue 14: a broker gone. A master and its slave (in-process, each with the alarm rules file):
// the master reports its slave's replication lag, fires brokerDown when the stopped slave leaves
// the name server's list, and resolves it when the slave is back.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { startNamesrv } from '../../src/namesrv/index.js';
import { GET_ALARM_LIST, type AlarmListBody } from '../../src/observability/alarms/index.js';
import { bodyOf, createRequest, RemotingClient } from '../../src/remoting/index.js';
import { startBroker } from '../../src/broker/index.js';
import { checkFor } from '../helpers/check-for.js';
import { tempDir } from '../helpers/temp-dir.js';
import { startHookServer } from './alarms-hook-server.js';

void test('alarms broker down - issue 14: a stopped slave fires brokerDown on its master (webhook firing), back again it resolves; replicationLag sees the slave', async () => {
  using dir = tempDir('apogee-alarms-ha-');
  await using hooks = await startHookServer();
  const file = join(dir.path, 'alarms.yml');
  writeFileSync(
    file,
    `webhooks:
  - name: ops
    url: ${hooks.url}/hook
    backoff: 50ms
rules:
  - name: gone
    type: brokerDown
    for: 300ms
    notify: [ops]
  - name: repl
    type: replicationLag
    threshold: 1073741824
`,
  );
  const ns = await startNamesrv(loadConfig('namesrv', { flags: { listenPort: 0, host: '127.0.0.1' } }));
  const member = (brokerId: number, brokerRole: string) =>
    startBroker(
      loadConfig('broker', {
        flags: {
          brokerName: 'alarm-group',
          brokerId,
          brokerRole,
          host: '127.0.0.1',
          brokerIP1: '127.0.0.1',
          listenPort: 0,
          haListenPort: 0,
          namesrvAddr: ns.addresses.namesrv,
          storePathRootDir: join(dir.path, `member-${brokerId}`),
          mappedFileSizeCommitLog: 1048576,
          alarmRulesFile: file,
          alarmEvaluateIntervalMs: 200,
        },
      }),
    );
  const [master, first] = await Promise.all([member(0, 'ASYNC_MASTER'), member(1, 'SLAVE')]);
  let slave = first;
  const rc = new RemotingClient();
  try {
    const list = async (): Promise<AlarmListBody> => JSON.parse(bodyOf(await rc.invoke(master.addresses.broker, createRequest(GET_ALARM_LIST))).toString()) as AlarmListBody;
    const alarms = async (rule: string) => (await list()).rules.find((r) => r.name === rule)?.alarms ?? [];

    const repl = await checkFor(10_000, 50, async () => (await alarms('repl')).find((a) => a.scope === 'brokerId=0 slaveId=1'), "the slave's replication lag");
    assert.equal(repl.state, 'ok');
    assert.equal(typeof repl.value, 'number');
    const listed = await checkFor(10_000, 50, async () => {
      const a = await alarms('gone');
      return a.length === 2 ? a : undefined;
    }, 'both members seen listed');
    assert.deepEqual(listed.map((a) => [a.scope, a.state, a.value]).sort(), [
      ['cluster=DefaultCluster broker=alarm-group brokerId=0', 'ok', 0],
      ['cluster=DefaultCluster broker=alarm-group brokerId=1', 'ok', 0],
    ]);
    assert.equal(hooks.requests.length, 0);

    await slave.close();
    const [firing] = await checkFor(15_000, 50, () => (hooks.accepted().length > 0 ? hooks.accepted() : undefined), 'the brokerDown notice');
    assert.equal(firing.status, 'firing');
    assert.deepEqual({ ...firing.alerts[0].labels }, { alertname: 'gone', alarmtype: 'brokerDown', cluster: 'DefaultCluster', broker: 'alarm-group', brokerId: '1' });
    assert.match(firing.alerts[0].annotations.summary, /^broker alarm-group \(id 1, 127\.0\.0\.1:\d+\) of cluster DefaultCluster is missing from the name servers$/);
    assert.deepEqual((await alarms('repl')).filter((a) => a.scope === 'brokerId=0 slaveId=1'), [], 'a disconnected slave leaves the replication list');

    slave = await member(1, 'SLAVE');
    const resolved = await checkFor(20_000, 50, () => hooks.accepted().find((p) => p.status === 'resolved'), 'the resolved notice');
    assert.equal(resolved.alerts[0].fingerprint, firing.alerts[0].fingerprint);
    assert.deepEqual(hooks.accepted().map((p) => p.status), ['firing', 'resolved']);
  } finally {
    await rc.close();
    await slave.close();
    await master.close();
    await ns.close();
  }
});
