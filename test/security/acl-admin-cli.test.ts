// Issue 15: `apogee admin` signs its requests (--accessKey/--secretKey or APOGEE_ACCESS_KEY /
// APOGEE_SECRET_KEY) and edits a broker's ACL with mqadmin's commands; the broker applies the
// change at once and the new account works.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequest, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { aclServiceOf } from '../../src/broker/index.js';
import { runApogee } from '../helpers/spawn-apogee.js';
import { ADMIN, APP, BASE_ACL, createAsAdmin, signedClient, startAclStandalone } from './helpers.js';

void describe('acl admin cli', () => {
  void test('acl admin cli - unsigned or non-admin admin commands are refused; signed ones create, version and delete accounts (issue 15)', async () => {
    await using a = await startAclStandalone(BASE_ACL);
    await createAsAdmin(a.s, ['TopicC']);
    const n = ['-n', a.s.namesrvAddr];
    const asAdmin = ['--accessKey', ADMIN.accessKey, '--secretKey', ADMIN.secretKey];
    const b = ['-b', a.s.brokerAddr];

    const unsigned = await runApogee(['admin', 'updateAclConfig', ...n, ...b, '-a', 'newKey0001', '-s', 'newSecret01']);
    assert.equal(unsigned.code, 1);
    assert.match(unsigned.stderr, /answered NO_PERMISSION \(code 16\): UPDATE_AND_CREATE_ACL_CONFIG from 127\.0\.0\.1: no AccessKey/);
    const notAdmin = await runApogee(['admin', 'updateAclConfig', ...n, ...b, '-a', 'newKey0001', '-s', 'newSecret01'], {
      env: { APOGEE_ACCESS_KEY: APP.accessKey, APOGEE_SECRET_KEY: APP.secretKey },
    });
    assert.equal(notAdmin.code, 1);
    assert.match(notAdmin.stderr, /needs an admin account; accessKey appKey0001 is not admin/);
    const badPerm = await runApogee(['admin', 'updateAclConfig', ...n, ...b, ...asAdmin, '-a', 'newKey0001', '-s', 'newSecret01', '-i', 'WRITE']);
    assert.equal(badPerm.code, 2);
    assert.match(badPerm.stderr, /option -i: expected PUB, SUB, PUB\|SUB or DENY, got "WRITE"/);

    const before = aclServiceOf(a.s.controller)!.dataVersion.counter;
    const up = await runApogee(['admin', 'updateAclConfig', ...n, '-c', 'DefaultCluster', ...asAdmin, '-a', 'newKey0001', '-s', 'newSecret01', '-t', 'TopicC=PUB', '-i', 'DENY']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /updateAclConfig newKey0001 on .*: OK/);
    assert.match(readFileSync(a.aclFile, 'utf8'), /accessKey: newKey0001[\s\S]*TopicC=PUB/);
    const after = await runApogee(['admin', 'clusterAclConfigVersion', ...n, '-c', 'DefaultCluster', ...asAdmin]);
    assert.equal(after.code, 0, after.stderr);
    assert.equal(Number(/broker-a\s+\S+\s+(\d+)/.exec(after.stdout)?.[1]), before + 1, after.stdout);
    const show = await runApogee(['admin', 'getAclConfig', ...n, ...b, ...asAdmin]);
    assert.match(show.stdout, /newKey0001\s+false\s+-\s+DENY\s+DENY\s+TopicC=PUB/);
    assert.doesNotMatch(show.stdout, /newSecret01|adminSecret01/, 'secrets are never printed');

    const fresh = signedClient({ accessKey: 'newKey0001', secretKey: 'newSecret01' });
    try {
      const send = () => createRequest(RequestCode.SEND_MESSAGE_V2, { a: 'PG', b: 'TopicC', c: 'TBW102', d: 4, e: 0, f: 0, g: Date.now(), h: 0, i: '', j: 0, k: false }, Buffer.from('x'));
      assert.equal((await fresh.invoke(a.s.brokerAddr, send())).code, ResponseCode.SUCCESS, 'the new account works at once');
      const del = await runApogee(['admin', 'deleteAclConfig', ...n, ...b, ...asAdmin, '-a', 'newKey0001']);
      assert.equal(del.code, 0, del.stderr);
      const gone = await fresh.invoke(a.s.brokerAddr, send());
      assert.equal(gone.code, ResponseCode.NO_PERMISSION);
      assert.match(gone.remark ?? '', /no ACL account for accessKey newKey0001/);
    } finally {
      await fresh.close();
    }
  });
});
