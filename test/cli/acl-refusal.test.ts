// Issue 11: the real `apogee` command asked for ACL (which does not exist yet) exits with the
// configuration error code and a message naming the key, and never prints its ready line.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runApogee } from '../helpers/spawn-apogee.js';
import { tempDir } from '../helpers/temp-dir.js';

const PORTS = ['--listenPort=0', '--grpcServerPort=0', '--httpPort=0', '--host=127.0.0.1'];

void describe('apogee acl refusal', () => {
  void test('apogee acl refusal - broker with --aclEnable true exits 2 naming the key and never gets ready (issue 11)', async () => {
    using dir = tempDir();
    const r = await runApogee(['broker', ...PORTS, '--aclEnable', 'true', '-n', '127.0.0.1:9876', '--storePathRootDir', join(dir.path, 's')], {
      timeoutMs: 20_000,
    });
    assert.equal(r.signal, null, `exited by itself (stderr: ${r.stderr})`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /option --aclEnable: aclEnable=true asks for ACL, which Apogee does not provide yet/);
    assert.match(r.stderr, /refuses to start/);
    assert.doesNotMatch(r.stdout, /apogee ready/);
  });

  void test('apogee acl refusal - standalone with enableAcl=true in its config file exits 2 naming file, line and key (issue 11)', async () => {
    using dir = tempDir();
    const file = join(dir.path, 'broker.conf');
    writeFileSync(file, 'brokerClusterName=DefaultCluster\nenableAcl=true\n');
    const r = await runApogee(['standalone', '-c', file, '--namesrvPort=0', ...PORTS, '--storePathRootDir', join(dir.path, 'data')], {
      timeoutMs: 20_000,
    });
    assert.equal(r.signal, null, `exited by itself (stderr: ${r.stderr})`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /broker\.conf:2: enableAcl: enableAcl=true asks for ACL/);
    assert.doesNotMatch(r.stdout, /apogee ready/);
  });
});
