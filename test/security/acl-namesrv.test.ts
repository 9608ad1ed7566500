// Issue 15 part A: the name server's ACL, code by code. Every write needs an admin account, every
// read a valid signature; an edit of plain_acl.yml applies without a restart.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { startNamesrv } from '../../src/namesrv/index.js';
import { NAMESRV_WRITE_CODES } from '../../src/remoting/acl/index.js';
import { createRequest, RequestCode, ResponseCode, requestCodeName } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ADMIN, APP, BASE_ACL, signedClient } from './helpers.js';

const READS = [RequestCode.GET_BROKER_CLUSTER_INFO, RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, RequestCode.GET_KVLIST_BY_NAMESPACE, RequestCode.GET_ROUTEINFO_BY_TOPIC];

void describe('acl namesrv', () => {
  void test('acl namesrv - writes need an admin account, reads any signed account, unsigned nothing; edits apply without a restart (issue 15)', async () => {
    using dir = tempDir('apogee-acl-ns-');
    const aclFile = join(dir.path, 'plain_acl.yml');
    writeFileSync(aclFile, BASE_ACL);
    const ns = await startNamesrv(loadConfig('namesrv', { flags: { listenPort: 0, host: '127.0.0.1', aclEnable: true, aclConfigFile: aclFile } }));
    const addr = ns.addresses.namesrv!;
    const admin = signedClient(ADMIN);
    const app = signedClient(APP);
    const unsigned = signedClient(undefined);
    try {
      for (const code of NAMESRV_WRITE_CODES) {
        const r = await app.invoke(addr, createRequest(code, { namespace: 'n', key: 'k', value: 'v', topic: 'T', brokerName: 'b' }));
        assert.equal(r.code, ResponseCode.NO_PERMISSION, `${requestCodeName(code)}: ${r.remark}`);
        assert.match(r.remark ?? '', new RegExp(`^${requestCodeName(code)} needs an admin account; accessKey appKey0001 is not admin`));
      }
      const put = await admin.invoke(addr, createRequest(RequestCode.PUT_KV_CONFIG, { namespace: 'n', key: 'k', value: 'v' }));
      assert.equal(put.code, ResponseCode.SUCCESS, put.remark);
      for (const code of READS) {
        const r = await app.invoke(addr, createRequest(code, { namespace: 'n', topic: 'NoSuchTopic' }));
        assert.notEqual(r.code, ResponseCode.NO_PERMISSION, `${requestCodeName(code)} is a read: ${r.remark}`);
        const u = await unsigned.invoke(addr, createRequest(code, { namespace: 'n', topic: 'NoSuchTopic' }));
        assert.equal(u.code, ResponseCode.NO_PERMISSION, `${requestCodeName(code)} unsigned`);
        assert.match(u.remark ?? '', /no AccessKey \(the request is not signed\)/);
      }
      assert.ok(ns.acl, 'the name server exposes its ACL');
      assert.equal(ns.acl.counters.refused.remoting, NAMESRV_WRITE_CODES.size + READS.length);

      // appKey0001 becomes an admin: its next write goes through.
      writeFileSync(aclFile, BASE_ACL.replace(`secretKey: ${APP.secretKey}\n    admin: false`, `secretKey: ${APP.secretKey}\n    admin: true`));
      await checkFor(10_000, 100, async () => (await app.invoke(addr, createRequest(RequestCode.DELETE_KV_CONFIG, { namespace: 'n', key: 'k' }))).code === ResponseCode.SUCCESS, 'a write by the promoted account');
    } finally {
      await Promise.all([admin.close(), app.close(), unsigned.close()]);
      await ns.close();
    }
  });
});
