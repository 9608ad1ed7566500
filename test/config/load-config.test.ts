import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BROKER_DEFAULTS,
  ConfigError,
  NAMESRV_DEFAULTS,
  PROXY_DEFAULTS,
  ROLE_SCHEMAS,
  STANDALONE_DEFAULTS,
  brokerConfigOf,
  loadConfig,
  namesrvConfigOf,
  pickBrokerIP1,
  type BrokerConfig,
} from '../../src/config/index.js';
import { tempDir } from '../helpers/temp-dir.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

void describe('config', () => {
  void test('config - defaults per role use RocketMQ names and values', () => {
    const n = loadConfig('namesrv');
    assert.equal(n.listenPort, 9876);
    assert.equal(n.scanNotActiveBrokerInterval, 5000);
    assert.equal(n.brokerChannelExpiredTime, 120000);
    assert.equal(n.orderMessageEnable, false);
    assert.equal(n.host, '0.0.0.0');

    const b = loadConfig('broker');
    assert.equal(b.brokerClusterName, 'DefaultCluster');
    assert.equal(b.brokerName, 'broker-a');
    assert.equal(b.listenPort, 10911);
    assert.equal(b.flushDiskType, 'ASYNC_FLUSH');
    assert.equal(b.brokerRole, 'ASYNC_MASTER');
    assert.equal(b.maxMessageSize, 4194304);
    assert.equal(b.mappedFileSizeCommitLog, 1073741824);
    assert.equal(b.messageDelayLevel, '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h');
    assert.equal(b.timerMaxDelaySec, 31536000);
    assert.equal(b.storePathRootDir, './data/store');

    const p = loadConfig('proxy');
    assert.equal(p.grpcServerPort, 8081);
    assert.equal(p.proxyMode, 'cluster');

    const s = loadConfig('standalone');
    assert.equal(s.storePathRootDir, './data');
    assert.equal(s.namesrvPort, 9876);
    assert.equal(s.httpPort, 8080);
    assert.equal(s.listenPort, 10911);
  });

  void test('config - every key has a doc line and a default of its type', () => {
    for (const [role, schema] of Object.entries(ROLE_SCHEMAS)) {
      for (const [key, spec] of Object.entries(schema)) {
        assert.ok(spec.doc.length > 5 && !spec.doc.includes('\n'), `${role}.${key} doc`);
        const t = typeof spec.default;
        const want = spec.type === 'bool' ? 'boolean' : spec.type === 'string' || spec.type === 'enum' ? 'string' : 'number';
        assert.equal(t, want, `${role}.${key} default type`);
      }
    }
    assert.ok(Object.keys(STANDALONE_DEFAULTS).length > Object.keys(BROKER_DEFAULTS).length);
    assert.ok(NAMESRV_DEFAULTS.listenPort && PROXY_DEFAULTS.proxyMode);
  });

  void test('config - the result is frozen', () => {
    const c = loadConfig('namesrv');
    assert.ok(Object.isFrozen(c));
    assert.throws(() => {
      (c as { listenPort: number }).listenPort = 1;
    }, TypeError);
  });

  void test('config - file, then environment, then flags override defaults in that order', () => {
    using dir = tempDir();
    const file = join(dir.path, 'broker.conf');
    writeFileSync(
      file,
      [
        '# a RocketMQ broker.conf',
        'brokerClusterName = MyCluster',
        'brokerName=broker-b',
        'brokerId=0',
        'listenPort=20911',
        'deleteWhen=04',
        'fileReservedTime=48',
        'brokerRole=sync_master',
        'flushDiskType=SYNC_FLUSH',
        'namesrvAddr=10.0.0.1:9876;10.0.0.2:9876',
        'autoCreateTopicEnable=false',
      ].join('\n'),
    );
    const c = loadConfig('broker', {
      file,
      env: { APOGEE_listenPort: '30911', APOGEE_FILERESERVEDTIME: '24', APOGEE_FROM_SOURCE: '1', PATH: '/bin' },
      flags: { listenPort: 0 },
    });
    assert.equal(c.brokerClusterName, 'MyCluster');
    assert.equal(c.brokerName, 'broker-b');
    assert.equal(c.brokerRole, 'SYNC_MASTER', 'enum matched case-insensitively, stored canonically');
    assert.equal(c.flushDiskType, 'SYNC_FLUSH');
    assert.equal(c.namesrvAddr, '10.0.0.1:9876;10.0.0.2:9876');
    assert.equal(c.autoCreateTopicEnable, false);
    assert.equal(c.fileReservedTime, 24, 'environment beats file');
    assert.equal(c.listenPort, 0, 'flag beats environment');
  });

  void test('config - flags accept strings, numbers and booleans', () => {
    const c: BrokerConfig = loadConfig('broker', {
      flags: { autoCreateTopicEnable: false, longPollingEnable: 'false', defaultTopicQueueNums: '4', brokerPermission: 2 },
    });
    assert.equal(c.autoCreateTopicEnable, false);
    assert.equal(c.longPollingEnable, false);
    assert.equal(c.defaultTopicQueueNums, 4);
    assert.equal(c.brokerPermission, 2);
  });

  void test('config - unknown keys and bad values are all reported together, naming key, form and line', () => {
    using dir = tempDir();
    const file = join(dir.path, 'broker.conf');
    writeFileSync(file, 'brokerName=b\nlistenPort=abc\n\nnoSuchKey=1\nflushDiskType=SOMETIMES\n');
    const err = configError(() =>
      loadConfig('broker', { file, env: { APOGEE_brokerId: '-1' }, flags: { bogus: '1', autoCreateTopicEnable: 'yes' } }),
    );
    const byKey = new Map(err.problems.map((p) => [p.key, p]));
    assert.equal(err.problems.length, 6);

    assert.equal(byKey.get('listenPort')?.line, 2);
    assert.match(byKey.get('listenPort')!.message, /broker\.conf:2: listenPort: expected an integer 0\.\.65535, got "abc"/);
    assert.equal(byKey.get('noSuchKey')?.line, 4);
    assert.match(byKey.get('noSuchKey')!.message, /unknown key "noSuchKey"/);
    assert.match(byKey.get('flushDiskType')!.message, /:5: flushDiskType: expected one of ASYNC_FLUSH, SYNC_FLUSH/);
    assert.match(byKey.get('brokerId')!.message, /environment APOGEE_brokerId: expected an integer 0\.\./);
    assert.match(byKey.get('bogus')!.message, /option --bogus: unknown key/);
    assert.match(byKey.get('autoCreateTopicEnable')!.message, /expected true or false, got "yes"/);
    for (const p of err.problems) assert.ok(err.message.includes(p.message));
  });

  void test('config - a near-miss key gets a suggestion', () => {
    const err = configError(() => loadConfig('namesrv', { flags: { listenport: 1 } }));
    assert.match(err.problems[0].message, /did you mean listenPort\?/);
  });

  void test('config - key-specific checks name the expected form', () => {
    const err = configError(() =>
      loadConfig('broker', { flags: { namesrvAddr: 'localhost', deleteWhen: '25', messageDelayLevel: '1s 5x' } }),
    );
    assert.equal(err.problems.length, 3);
    assert.match(err.message, /namesrvAddr: expected host:port\[;host:port\.\.\.\], got "localhost"/);
    assert.match(err.message, /deleteWhen: expected two-digit hours/);
    assert.match(err.message, /messageDelayLevel: expected space-separated durations/);
  });

  void test('config - integers: out of int range, fractions and ranges are rejected', () => {
    const err = configError(() =>
      loadConfig('broker', { flags: { listenPort: 70000, defaultTopicQueueNums: '1.5', maxMessageSize: '99999999999' } }),
    );
    assert.deepEqual(err.problems.map((p) => p.key).sort(), ['defaultTopicQueueNums', 'listenPort', 'maxMessageSize']);
    const ok = loadConfig('broker', { flags: { mappedFileSizeCommitLog: '99999999999' } });
    assert.equal(ok.mappedFileSizeCommitLog, 99999999999, 'long keys hold values past 2^31');
  });

  void test('config - a missing file is reported with its path', () => {
    const err = configError(() => loadConfig('namesrv', { file: join('no', 'such', 'namesrv.conf') }));
    assert.match(err.message, /cannot read config file .*namesrv\.conf: ENOENT/);
  });

  void test('config - a malformed escape in the file is reported with its line', () => {
    using dir = tempDir();
    const file = join(dir.path, 'n.conf');
    writeFileSync(file, 'host=127.0.0.1\nkvConfigPath=\\uZZZZ\n');
    const err = configError(() => loadConfig('namesrv', { file }));
    assert.equal(err.problems[0].line, 2);
  });

  void test('config - standalone splits into namesrv and broker parts', () => {
    const s = loadConfig('standalone', { flags: { namesrvPort: 0, listenPort: 0, brokerChannelExpiredTime: 1000 } });
    const n = namesrvConfigOf(s);
    assert.equal(n.listenPort, 0);
    assert.equal(n.brokerChannelExpiredTime, 1000);
    assert.ok(Object.isFrozen(n));
    const b = brokerConfigOf(s, '127.0.0.1:1234');
    assert.equal(b.namesrvAddr, '127.0.0.1:1234');
    assert.equal(b.storePathRootDir, './data');
    assert.deepEqual(Object.keys(b).sort(), Object.keys(BROKER_DEFAULTS).sort());
  });

  void test('config - pickBrokerIP1 takes the first non-internal IPv4, else loopback', () => {
    const v6 = { address: 'fe80::1', netmask: '', family: 'IPv6', mac: '', internal: false, cidr: null, scopeid: 0 } as const;
    const lo = { address: '127.0.0.1', netmask: '', family: 'IPv4', mac: '', internal: true, cidr: null } as const;
    const eth = { address: '10.1.2.3', netmask: '', family: 'IPv4', mac: '', internal: false, cidr: null } as const;
    assert.equal(pickBrokerIP1({ lo: [lo], eth0: [v6, eth] }), '10.1.2.3');
    assert.equal(pickBrokerIP1({ lo: [lo], eth0: [v6] }), '127.0.0.1');
    assert.match(pickBrokerIP1(), /^\d+\.\d+\.\d+\.\d+$/);
  });
});
