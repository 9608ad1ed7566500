// Issue 16: with ACL on (aclEnable, plain_acl.yml) the console's login takes the cluster's admin
// accounts (accessKey/secretKey): a broker vouches for them, a non-admin account and a wrong secret
// are refused, consoleUser/consolePassword still log in, and an ACL session's requests are signed
// with its account (the broker refuses unsigned admin requests, so creating a topic proves it).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { checkFor } from '../helpers/check-for.js';
import { ADMIN, APP, BASE_ACL } from '../security/helpers.js';
import { ApiClient, startConsoleStandalone } from './console-harness.js';

void test('console login - issue 16: with aclEnable an admin ACL account logs in and the console acts as it; a non-admin account or a wrong secret is refused', async () => {
  using dir = tempDir('apogee-console-acl-');
  const aclFile = join(dir.path, 'plain_acl.yml');
  writeFileSync(aclFile, BASE_ACL);
  await using s = await startConsoleStandalone({ aclEnable: true, aclConfigFile: aclFile, consoleUser: 'ops', consolePassword: 'ops-secret' });
  assert.equal(s.addresses.consoleAccess, 'login');
  const anon = new ApiClient(s.base);
  assert.deepEqual((await anon.get('/session')).body, { loginRequired: true, loggedIn: false, aclLogin: true });
  assert.equal((await anon.get('/topics')).status, 401);

  const wrong = await anon.post('/login', { user: ADMIN.accessKey, password: 'not-the-secret' });
  assert.deepEqual([wrong.status, wrong.body], [401, { error: 'wrong user or password' }]);
  const unknown = await anon.post('/login', { user: 'nobodyKey1', password: ADMIN.secretKey });
  assert.deepEqual([unknown.status, unknown.body], [401, { error: 'wrong user or password' }]);
  const app = await anon.post('/login', { user: APP.accessKey, password: APP.secretKey });
  assert.equal(app.status, 403);
  assert.match(app.body.error, /^accessKey appKey0001 is not an admin account: the console needs one/);
  assert.equal(anon.cookie, undefined, 'no session for a refused login');

  const admin = new ApiClient(s.base);
  const ok = await admin.post('/login', { user: ADMIN.accessKey, password: ADMIN.secretKey });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual((await admin.get('/session')).body, { loginRequired: true, loggedIn: true, aclLogin: true });
  // Creating a topic is an admin request at the broker: it succeeds only signed as an admin.
  const created = await admin.post('/topics', { topic: 'AclConsoleTopic', readQueueNums: 2, writeQueueNums: 2 });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  await checkFor(10_000, 100, async () => (await admin.get('/topics?filter=AclConsoleTopic')).body.items?.length === 1, 'the topic listed');
  await admin.post('/logout');
  assert.equal((await admin.get('/topics')).status, 401);

  // consoleUser/consolePassword still log in beside the ACL accounts.
  const ops = new ApiClient(s.base);
  assert.equal((await ops.post('/login', { user: 'ops', password: 'wrong' })).status, 401);
  assert.equal((await ops.post('/login', { user: 'ops', password: 'ops-secret' })).status, 200);
  assert.deepEqual((await ops.get('/session')).body, { loginRequired: true, loggedIn: true, aclLogin: true });

  // A broker that lets this console's address through unchecked cannot vouch for a secret: the
  // login says so rather than letting any secret in (plain_acl.yml is reloaded live).
  writeFileSync(aclFile, BASE_ACL.replace('globalWhiteRemoteAddresses: []', 'globalWhiteRemoteAddresses:\n  - 127.0.0.1'));
  const rc = new RemotingClient();
  try {
    await checkFor(10_000, 100, async () => (await rc.invoke(s.brokerAddr, createRequest(RequestCode.GET_BROKER_CLUSTER_ACL_INFO))).code === ResponseCode.SUCCESS, 'the white list applied');
  } finally {
    await rc.close();
  }
  const late = new ApiClient(s.base);
  const refused = await late.post('/login', { user: ADMIN.accessKey, password: 'any-secret-at-all' });
  assert.equal(refused.status, 503);
  assert.match(refused.body.error, /does not check this console's requests \(aclEnable off, or a white-listed address\): ACL accounts cannot be verified/);
  assert.equal(late.cookie, undefined);
});
