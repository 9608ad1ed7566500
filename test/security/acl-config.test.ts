// Issue 15 (replaces issue 11's refusal tests): aclEnable turns ACL on instead of refusing to
// start. The accounts file defaults to plain_acl.yml beside the -c file; a missing or malformed
// one refuses the start with file, line and cause; the real `apogee` command serves signed
// requests only.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBroker } from '../../src/broker/index.js';
import { ConfigError, loadConfig, type BrokerConfig } from '../../src/config/index.js';
import { createRequest, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { runApogee, spawnApogee } from '../helpers/spawn-apogee.js';
import { tempDir } from '../helpers/temp-dir.js';
import { APP, BASE_ACL, signedClient } from './helpers.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

const PORTS = ['--listenPort=0', '--grpcServerPort=0', '--httpPort=0', '--host=127.0.0.1', '--brokerIP1=127.0.0.1'];

void describe('acl config', () => {
  void test('acl config - off by default; aclConfigFile defaults to plain_acl.yml beside the -c file, else the working directory (issue 15)', () => {
    using dir = tempDir();
    const b = loadConfig('broker');
    assert.equal(b.aclEnable, false);
    assert.equal(b.enableAcl, false);
    assert.equal(b.aclConfigFile, 'plain_acl.yml');
    const file = join(dir.path, 'broker.conf');
    writeFileSync(file, 'brokerName=broker-a\n');
    assert.equal(loadConfig('broker', { file }).aclConfigFile, join(dir.path, 'plain_acl.yml'));
    assert.equal(loadConfig('standalone', { file, flags: { aclConfigFile: '/etc/acl.yml' } }).aclConfigFile, '/etc/acl.yml');
  });

  void test('acl config - aclEnable=true without the accounts file is refused naming key, place and the missing file (issue 15)', () => {
    using dir = tempDir();
    const file = join(dir.path, 'broker.conf');
    writeFileSync(file, 'brokerName=broker-a\naclEnable=true\n');
    const err = configError(() => loadConfig('broker', { file }));
    assert.equal(err.problems.length, 1);
    assert.equal(err.problems[0].line, 2);
    assert.match(err.problems[0].message, /broker\.conf:2: aclEnable: aclEnable=true needs the ACL accounts file .*plain_acl\.yml .*which does not exist/);
    const env = configError(() => loadConfig('standalone', { env: { APOGEE_ENABLEACL: 'TRUE', APOGEE_ACLCONFIGFILE: join(dir.path, 'nope.yml') } }));
    assert.match(env.problems[0].message, /^environment APOGEE_enableAcl: enableAcl=true needs the ACL accounts file .*nope\.yml/);
    writeFileSync(join(dir.path, 'plain_acl.yml'), BASE_ACL);
    assert.equal(loadConfig('broker', { file }).aclEnable, true, 'with the file beside broker.conf it loads');
    const bad = configError(() => loadConfig('broker', { flags: { innerClientAuthenticationCredentials: '{"accessKey":"a"}' } }));
    assert.match(bad.problems[0].message, /innerClientAuthenticationCredentials: expected JSON \{"accessKey"/);
  });

  void test('acl config - startBroker refuses a malformed or missing plain_acl.yml naming file, line and cause (issue 15)', async () => {
    using dir = tempDir();
    const aclFile = join(dir.path, 'plain_acl.yml');
    const base = loadConfig('broker', { flags: { listenPort: 0, host: '127.0.0.1', storePathRootDir: join(dir.path, 'store') } });
    const withAcl = Object.freeze({ ...base, aclEnable: true, aclConfigFile: aclFile }) as BrokerConfig;
    const cases: [string, RegExp][] = [
      ['accounts:\n  - accessKey: appKey0001\n    secretKey: appSecret0001\n    defaultTopicPerm: WRITE\n', /plain_acl\.yml:4: account appKey0001: defaultTopicPerm: expected PUB, SUB, PUB\|SUB or DENY, got "WRITE"/],
      ['accounts:\n  - accessKey: appKey0001\n    secretKey: appSecret0001\n    topicPerms:\n      - TopicA\n', /plain_acl\.yml:5: account appKey0001: topicPerms: "TopicA": expected name=/],
      ['accounts:\n  - accessKey: short\n    secretKey: appSecret0001\n', /plain_acl\.yml:2: accessKey "short" is shorter than 6 characters/],
      ['accounts:\n  - accessKey: appKey0001\n    secretKey: [oops\n', /plain_acl\.yml:\d+: /],
      ['globalWhiteRemoteAddresses:\n  - 10.0.0.300\naccounts: []\n', /globalWhiteRemoteAddresses: "10\.0\.0\.300": octet "300"/],
    ];
    for (const [yaml, want] of cases) {
      writeFileSync(aclFile, yaml);
      await assert.rejects(startBroker(withAcl), (err: Error) => (assert.match(err.message, want), true));
    }
    await assert.rejects(startBroker(Object.freeze({ ...withAcl, aclConfigFile: join(dir.path, 'gone.yml') }) as BrokerConfig), /gone\.yml: cannot read the ACL file \(ENOENT\)/);
  });

  void test('acl config - the apogee command with aclEnable serves signed requests and refuses unsigned ones; without the file it exits 2 (issue 15)', async () => {
    using dir = tempDir();
    const conf = join(dir.path, 'broker.conf');
    writeFileSync(conf, 'brokerClusterName=DefaultCluster\naclEnable=true\nautoCreateTopicEnable=true\n');
    const missing = await runApogee(['standalone', '-c', conf, '--namesrvPort=0', ...PORTS, '--storePathRootDir', join(dir.path, 'data')], { timeoutMs: 20_000 });
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /broker\.conf:2: aclEnable: aclEnable=true needs the ACL accounts file/);
    assert.doesNotMatch(missing.stdout, /apogee ready/);

    writeFileSync(join(dir.path, 'plain_acl.yml'), BASE_ACL.replace('defaultTopicPerm: DENY', 'defaultTopicPerm: PUB'));
    await using apogee = await spawnApogee(['standalone', '-c', conf, '--namesrvPort=0', ...PORTS, '--storePathRootDir', join(dir.path, 'data')]);
    const broker = apogee.addresses.broker!;
    const send = createRequest(RequestCode.SEND_MESSAGE_V2, { a: 'PG', b: 'AutoTopic', c: 'TBW102', d: 4, e: 0, f: 0, g: Date.now(), h: 0, i: '', j: 0, k: false }, Buffer.from('x'));
    const unsigned = signedClient(undefined);
    const app = signedClient(APP);
    try {
      const refused = await unsigned.invoke(broker, { ...send, extFields: { ...send.extFields } });
      assert.equal(refused.code, ResponseCode.NO_PERMISSION);
      assert.match(refused.remark ?? '', /SEND_MESSAGE_V2 from 127\.0\.0\.1: no AccessKey/);
      const ok = await app.invoke(broker, send);
      assert.equal(ok.code, ResponseCode.SUCCESS, ok.remark);
    } finally {
      await unsigned.close();
      await app.close();
    }
  });
});
