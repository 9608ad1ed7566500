// Issue 15 part A: a master and a slave with ACL on, behind a name server with ACL on. The slave
// learns its master from its signed registration and copies the master's topics with signed
// requests (the cluster account); replication itself runs on the HA port, outside remoting.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aclServiceOf, startBroker } from '../../src/broker/index.js';
import { loadConfig } from '../../src/config/index.js';
import { startNamesrv } from '../../src/namesrv/index.js';
import { createRequest, RequestCode, ResponseCode, type RemotingClient } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ADMIN, BASE_ACL, signedClient } from './helpers.js';

const CLUSTER = { accessKey: 'clusterKey01', secretKey: 'clusterSecret01' };
const CLUSTER_ACL = `${BASE_ACL}  - accessKey: ${CLUSTER.accessKey}
    secretKey: ${CLUSTER.secretKey}
    admin: true
`;

async function topicsOf(rc: RemotingClient, addr: string): Promise<string[]> {
  const r = await rc.invoke(addr, createRequest(RequestCode.GET_ALL_TOPIC_CONFIG));
  if (r.code !== ResponseCode.SUCCESS || !r.body) return [];
  const body = Array.isArray(r.body) ? Buffer.concat(r.body) : r.body;
  return Object.keys((JSON.parse(body.toString('utf8')) as { topicConfigTable?: Record<string, unknown> }).topicConfigTable ?? {});
}

void describe('acl ha', () => {
  void test('acl ha - a slave with the cluster account registers and copies its master\'s topics when name server and master check ACL (issue 15)', async () => {
    using dir = tempDir('apogee-acl-ha-');
    const aclFile = join(dir.path, 'plain_acl.yml');
    writeFileSync(aclFile, CLUSTER_ACL);
    const acl = { aclEnable: true, aclConfigFile: aclFile };
    const ns = await startNamesrv(loadConfig('namesrv', { flags: { listenPort: 0, host: '127.0.0.1', ...acl } }));
    const member = (brokerId: number, brokerRole: string) =>
      startBroker(
        loadConfig('broker', {
          flags: {
            brokerIP1: '127.0.0.1',
            host: '127.0.0.1',
            listenPort: 0,
            haListenPort: 0,
            namesrvAddr: ns.addresses.namesrv,
            storePathRootDir: join(dir.path, `member-${brokerId}`),
            mappedFileSizeCommitLog: 1024 * 1024,
            brokerName: 'acl-ha',
            brokerId,
            brokerRole,
            haSlaveSyncMetadataIntervalMs: 200,
            innerClientAuthenticationCredentials: JSON.stringify(CLUSTER),
            ...acl,
          },
        }),
      );
    const admin = signedClient(ADMIN);
    const master = await member(0, 'ASYNC_MASTER');
    try {
      const slave = await member(1, 'SLAVE');
      try {
        const created = await admin.invoke(master.addresses.broker!, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: 'AclHaTopic', readQueueNums: 2, writeQueueNums: 2, perm: 6 }));
        assert.equal(created.code, ResponseCode.SUCCESS, created.remark);
        await checkFor(15_000, 100, async () => (await topicsOf(admin, slave.addresses.broker!)).includes('AclHaTopic'), 'the slave copied the topic from its master');
        const masterAcl = aclServiceOf(master.controller)!;
        assert.equal(masterAcl.counters.refused.remoting, 0, 'the master refused none of its slave\'s requests');
        assert.equal(ns.acl!.counters.refused.remoting, 0, 'the name server refused none of the members\' requests');
      } finally {
        await slave.close();
      }
    } finally {
      await master.close();
      await admin.close();
      await ns.close();
    }
  });
});
