// Issue 11: ACL is not available yet, so a broker asked for it must refuse to start rather than
// serve every request unchecked; the CLI side is in test/cli/acl-refusal.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBroker } from '../../src/broker/index.js';
import { BROKER_DEFAULTS, ConfigError, loadConfig, type BrokerConfig } from '../../src/config/index.js';
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

void describe('config acl', () => {
  void test('config acl - aclEnable and enableAcl are known keys, off by default; accessKey/secretKey are gone (issue 11)', () => {
    const b = loadConfig('broker');
    assert.equal(b.aclEnable, false);
    assert.equal(b.enableAcl, false);
    assert.equal(loadConfig('standalone').aclEnable, false);
    assert.equal(loadConfig('broker', { flags: { aclEnable: 'false', enableAcl: false } }).aclEnable, false);
    // Nothing read them: a broker.conf with credentials must not look as if they were used.
    assert.ok(!('accessKey' in BROKER_DEFAULTS) && !('secretKey' in BROKER_DEFAULTS));
    const err = configError(() => loadConfig('broker', { flags: { accessKey: 'ak', secretKey: 'sk' } }));
    assert.deepEqual(err.problems.map((p) => p.key).sort(), ['accessKey', 'secretKey']);
  });

  void test('config acl - aclEnable=true from a file, the environment or a flag is refused naming key and place (issue 11)', () => {
    using dir = tempDir();
    const file = join(dir.path, 'broker.conf');
    writeFileSync(file, 'brokerName=broker-a\naclEnable=true\n');
    const fromFile = configError(() => loadConfig('broker', { file }));
    assert.equal(fromFile.problems.length, 1);
    assert.equal(fromFile.problems[0].key, 'aclEnable');
    assert.equal(fromFile.problems[0].line, 2);
    assert.match(fromFile.problems[0].message, /broker\.conf:2: aclEnable: aclEnable=true asks for ACL, which Apogee does not provide yet/);
    assert.match(fromFile.message, /refuses to start \(remove aclEnable or set it to false\)/);

    const fromEnv = configError(() => loadConfig('standalone', { env: { APOGEE_ENABLEACL: 'TRUE' } }));
    assert.match(fromEnv.problems[0].message, /^environment APOGEE_enableAcl: enableAcl=true asks for ACL/);

    const both = configError(() => loadConfig('broker', { flags: { aclEnable: true, enableAcl: 'true' } }));
    assert.deepEqual(
      both.problems.map((p) => p.message.split(':')[0]),
      ['option --aclEnable', 'option --enableAcl'],
    );
    // A later source that turns it off wins, as for any key.
    assert.equal(loadConfig('broker', { file, flags: { aclEnable: false } }).aclEnable, false);
  });

  void test('config acl - startBroker refuses a hand-built configuration with ACL on and opens no port (issue 11)', async () => {
    using dir = tempDir();
    const ok = loadConfig('broker', { flags: { listenPort: 0, host: '127.0.0.1', storePathRootDir: join(dir.path, 'store') } });
    for (const key of ['aclEnable', 'enableAcl'] as const) {
      // A known port instead of 0: had the broker started open, it would accept connections there.
      const port = await freePort();
      const config = Object.freeze({ ...ok, listenPort: port, [key]: true }) as BrokerConfig;
      await assert.rejects(startBroker(config), (err: Error) => {
        assert.match(err.message, new RegExp(`^${key}=true asks for ACL, which Apogee does not provide yet`));
        return true;
      });
      assert.equal(await accepts(port), false, `nothing listens on ${port} after the refused start`);
    }
  });
});

/** A port that was free a moment ago (bound on port 0, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
