// Issue 15: ACL on the remoting protocol with the real 4.x client (ali-ons) and with hand-signed
// requests: good keys work, wrong ones are refused with NO_PERMISSION naming the cause, forged
// requests are all refused, white lists skip the signature, and plain_acl.yml edits apply live.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import {
  aclSignature,
  createRequest,
  RequestCode,
  ResponseCode,
  signRequest,
  type RemotingCommand,
} from '../../src/remoting/index.js';
import { aclServiceOf } from '../../src/broker/index.js';
import { checkFor } from '../helpers/check-for.js';
import { OnsHarness, ons, type OnsMessage } from '../compat/helpers/ali-ons.js';
import { ADMIN, APP, BASE_ACL, createAsAdmin, OTHER, signedClient, startAclStandalone } from './helpers.js';

const keysOf = (who: { accessKey: string; secretKey: string }): Record<string, string> => ({ accessKeyId: who.accessKey, accessKeySecret: who.secretKey });

function sendV2(topic: string, body: string, queueId = 0): RemotingCommand {
  return createRequest(
    RequestCode.SEND_MESSAGE_V2,
    { a: 'PG_RAW', b: topic, c: 'TBW102', d: 4, e: queueId, f: 0, g: Date.now(), h: 0, i: '', j: 0, k: false },
    Buffer.from(body),
  );
}

async function errorOf(p: Promise<unknown>): Promise<Error & { code?: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: number };
  }
  assert.fail('expected a refusal');
}

void describe('acl remoting', () => {
  void test('acl remoting - ali-ons with the right keys sends and consumes on the topic and group it is granted (issue 15)', async () => {
    await using a = await startAclStandalone(BASE_ACL);
    await createAsAdmin(a.s, ['TopicA'], ['GroupA']);
    await using h = new OnsHarness(a.s);
    const p = await h.producer('PG_A', keysOf(APP));
    const sent = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await p.send(new ons.Message('TopicA', 'tag', `m${i}`));
      assert.equal(r.sendStatus, 'SEND_OK');
      sent.add(`m${i}`);
    }
    const got = new Set<string>();
    await h.consumer({ consumerGroup: 'GroupA', ...keysOf(APP) } as never, 'TopicA', '*', async (m: OnsMessage) => {
      got.add(m.body.toString());
    });
    await checkFor(15_000, 50, () => got.size === sent.size, 'all five messages consumed');
    assert.deepEqual([...got].sort(), [...sent].sort());
    const acl = aclServiceOf(a.s.controller)!;
    assert.equal(acl.counters.refused.remoting, 0, 'nothing refused on the happy path');
  });

  void test('acl remoting - ali-ons with a wrong secret, an unknown account or a topic without PUB gets NO_PERMISSION naming the cause (issue 15)', async () => {
    await using a = await startAclStandalone(BASE_ACL);
    await createAsAdmin(a.s, ['TopicA', 'TopicSubOnly', 'TopicB']);
    await using h = new OnsHarness(a.s);
    const cases: [string, Record<string, string>, string, RegExp][] = [
      ['wrong secret', { accessKeyId: APP.accessKey, accessKeySecret: 'notTheSecret' }, 'TopicA', /signature check failed for accessKey appKey0001/],
      ['unknown account', { accessKeyId: 'nobody0001', accessKeySecret: 'whatever01' }, 'TopicA', /no ACL account for accessKey nobody0001/],
      ['topic with SUB only', keysOf(APP), 'TopicSubOnly', /accessKey appKey0001 has no PUB permission on topic TopicSubOnly/],
      ['topic not listed, default DENY', keysOf(APP), 'TopicB', /accessKey appKey0001 has no PUB permission on topic TopicB \(its default permission/],
    ];
    for (const [what, keys, topic, remark] of cases) {
      const p = await h.producer(`PG_${what.replace(/\W/g, '')}`, keys);
      const msg = new ons.Message(topic, 'tag', 'x');
      // ali-ons' send() retries a NO_PERMISSION send and throws a generic error without the
      // remark, so the broker's answer is read through the client's own single-send step.
      const mq = (await p.tryToFindTopicPublishInfo(topic)).messageQueueList[0];
      const err = await errorOf(p.sendKernelImpl(msg, mq));
      assert.equal(err.code, ResponseCode.NO_PERMISSION, `${what}: ${err.message}`);
      assert.match(err.message, remark, what);
    }
    const acl = aclServiceOf(a.s.controller)!;
    assert.ok(acl.counters.unauthenticated >= 2 && acl.counters.forbidden >= 2, JSON.stringify(acl.counters));
    // ali-ons' close stops at a refused UNREGISTER_CLIENT and leaves its timers running (the test
    // process would never exit): let the badly keyed producers leave.
    writeFileSync(a.aclFile, BASE_ACL.replace('globalWhiteRemoteAddresses: []', 'globalWhiteRemoteAddresses:\n  - 127.0.0.1'));
    assert.equal(acl.reload(), true);
  });

  void test('acl remoting - 100 % of a table of forged requests is refused while the genuine one passes (issue 15)', async () => {
    await using a = await startAclStandalone(BASE_ACL);
    await createAsAdmin(a.s, ['TopicA', 'TopicB']);
    const rc = signedClient(undefined);
    try {
      const signed = (): RemotingCommand => {
        const cmd = sendV2('TopicA', 'genuine body');
        signRequest(cmd.extFields, cmd.body as Buffer, APP.accessKey, APP.secretKey);
        return cmd;
      };
      const genuine = await rc.invoke(a.s.brokerAddr, signed());
      assert.equal(genuine.code, ResponseCode.SUCCESS, genuine.remark);
      const forgeries: [string, (c: RemotingCommand) => void][] = [
        ['altered field (queueId)', (c) => (c.extFields.e = '1')],
        ['altered field (properties)', (c) => (c.extFields.i = 'KEYS\u0001evil\u0002')],
        ['added field', (c) => (c.extFields.zz = 'extra')],
        ['altered body', (c) => (c.body = Buffer.from('genuine bodz'))],
        ['body removed', (c) => (c.body = undefined)],
        ['replayed with another topic', (c) => (c.extFields.b = 'TopicB')],
        ['missing signature', (c) => delete c.extFields.Signature],
        ['empty signature', (c) => (c.extFields.Signature = '')],
        ['missing access key and signature', (c) => (delete c.extFields.Signature, delete c.extFields.AccessKey)],
        ['signature of another account', (c) => (c.extFields.Signature = aclSignature(c.extFields, c.body as Buffer, OTHER.secretKey))],
        ['another account\'s key with this signature', (c) => (c.extFields.AccessKey = OTHER.accessKey)],
        ['admin key claimed, app signature', (c) => (c.extFields.AccessKey = ADMIN.accessKey)],
        ['truncated signature', (c) => (c.extFields.Signature = c.extFields.Signature.slice(0, -2))],
        ['hex instead of base64', (c) => (c.extFields.Signature = Buffer.from(c.extFields.Signature, 'base64').toString('hex'))],
      ];
      let refused = 0;
      for (const [what, forge] of forgeries) {
        const cmd = signed();
        forge(cmd);
        const r = await rc.invoke(a.s.brokerAddr, cmd);
        assert.equal(r.code, ResponseCode.NO_PERMISSION, `${what}: answered ${r.code} ${r.remark ?? ''}`);
        assert.match(r.remark ?? '', /SEND_MESSAGE_V2/, what);
        refused++;
      }
      assert.equal(refused, forgeries.length, '100 % refused');
      assert.equal(aclServiceOf(a.s.controller)!.counters.refused.remoting, forgeries.length);
    } finally {
      await rc.close();
    }
  });

  void test('acl remoting - admin requests need an admin account; consumer requests are checked on the group as %RETRY%group (issue 15)', async () => {
    await using a = await startAclStandalone(BASE_ACL);
    await createAsAdmin(a.s, ['TopicA'], ['GroupA', 'GroupB']);
    const app = signedClient(APP);
    const other = signedClient(OTHER);
    try {
      const create = await app.invoke(a.s.brokerAddr, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: 'Sneaky', readQueueNums: 1, writeQueueNums: 1, perm: 6 }));
      assert.equal(create.code, ResponseCode.NO_PERMISSION);
      assert.match(create.remark ?? '', /UPDATE_AND_CREATE_TOPIC needs an admin account; accessKey appKey0001 is not admin/);
      const offset = (group: string): RemotingCommand => createRequest(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: group, topic: 'TopicA', queueId: 0 });
      assert.notEqual((await app.invoke(a.s.brokerAddr, offset('GroupA'))).code, ResponseCode.NO_PERMISSION);
      const denied = await app.invoke(a.s.brokerAddr, offset('GroupB'));
      assert.equal(denied.code, ResponseCode.NO_PERMISSION);
      assert.match(denied.remark ?? '', /accessKey appKey0001 has no SUB permission on group GroupB/);
      // A consumer's send-back to its own retry topic needs SUB on the group, not PUB on a topic.
      const back = sendV2('%RETRY%GroupA', 'retry me');
      const r = await other.invoke(a.s.brokerAddr, back);
      assert.notEqual(r.code, ResponseCode.NO_PERMISSION, r.remark);
      const appBack = await app.invoke(a.s.brokerAddr, sendV2('%RETRY%GroupB', 'retry me'));
      assert.equal(appBack.code, ResponseCode.NO_PERMISSION);
      assert.match(appBack.remark ?? '', /no SUB permission on group GroupB/);
    } finally {
      await app.close();
      await other.close();
    }
  });

  void test('acl remoting - a globally white-listed address and an account\'s whiteRemoteAddress need no signature (issue 15)', async () => {
    await using a = await startAclStandalone(`${BASE_ACL.replace('globalWhiteRemoteAddresses: []', 'globalWhiteRemoteAddresses:\n  - 127.0.0.*')}`);
    await createAsAdmin(a.s, ['TopicA']);
    const unsigned = signedClient(undefined);
    try {
      const r = await unsigned.invoke(a.s.brokerAddr, sendV2('TopicA', 'no signature'));
      assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
      await using h = new OnsHarness(a.s);
      const p = await h.producer('PG_WHITE');
      assert.equal((await p.send(new ons.Message('TopicA', 't', 'from a white-listed address'))).sendStatus, 'SEND_OK');
    } finally {
      await unsigned.close();
    }
    // Per account: only that account's requests from the address skip the signature.
    const perAccount = BASE_ACL.replace(`secretKey: ${APP.secretKey}\n`, `secretKey: ${APP.secretKey}\n    whiteRemoteAddress: 127.0.0.1\n`);
    await using b = await startAclStandalone(perAccount);
    await createAsAdmin(b.s, ['TopicA', 'TopicB']);
    const rc = signedClient(undefined);
    try {
      const claim = (cmd: RemotingCommand): RemotingCommand => ((cmd.extFields.AccessKey = APP.accessKey), cmd);
      assert.equal((await rc.invoke(b.s.brokerAddr, claim(sendV2('TopicA', 'x')))).code, ResponseCode.SUCCESS);
      // As RocketMQ's PlainPermissionManager: a matching whiteRemoteAddress accepts the account's
      // requests outright, permissions included (docs/SECURITY.md says so).
      assert.equal((await rc.invoke(b.s.brokerAddr, claim(sendV2('TopicB', 'x')))).code, ResponseCode.SUCCESS);
      const stranger = sendV2('TopicA', 'x');
      stranger.extFields.AccessKey = OTHER.accessKey;
      const denied = await rc.invoke(b.s.brokerAddr, stranger);
      assert.equal(denied.code, ResponseCode.NO_PERMISSION, 'another account from the same address still signs');
      assert.match(denied.remark ?? '', /signature check failed for accessKey otherKey01/);
      const noKey = await rc.invoke(b.s.brokerAddr, sendV2('TopicA', 'x'));
      assert.equal(noKey.code, ResponseCode.NO_PERMISSION);
      assert.match(noKey.remark ?? '', /no AccessKey/);
    } finally {
      await rc.close();
    }
  });

  void test('acl remoting - editing plain_acl.yml takes effect without a restart; a malformed edit keeps the previous accounts (issue 15)', async () => {
    await using a = await startAclStandalone(BASE_ACL, {});
    await createAsAdmin(a.s, ['TopicA', 'TopicB']);
    const acl = aclServiceOf(a.s.controller)!;
    const app = signedClient(APP);
    try {
      const send = async (topic: string): Promise<number> => (await app.invoke(a.s.brokerAddr, sendV2(topic, 'x'))).code;
      assert.equal(await send('TopicB'), ResponseCode.NO_PERMISSION);
      writeFileSync(a.aclFile, BASE_ACL.replace('      - TopicSubOnly=SUB', '      - TopicSubOnly=SUB\n      - TopicB=PUB'));
      const t0 = Date.now();
      await checkFor(10_000, 100, async () => (await send('TopicB')) === ResponseCode.SUCCESS, 'TopicB granted by the edit');
      assert.ok(Date.now() - t0 < 5000, `applied within seconds (${Date.now() - t0} ms)`);
      const reloads = acl.counters.reloads;
      writeFileSync(a.aclFile, 'accounts:\n  - accessKey: appKey0001\n    secretKey: [unclosed\n');
      await checkFor(10_000, 100, () => acl.counters.reloadFailures > 0, 'the malformed edit is seen');
      assert.match(acl.lastReloadError ?? '', /plain_acl\.yml:\d+: /);
      assert.equal(acl.counters.reloads, reloads);
      assert.equal(await send('TopicB'), ResponseCode.SUCCESS, 'previous accounts stay in force');
      writeFileSync(a.aclFile, BASE_ACL.replace('topicPerms:', 'topicPerm:'));
      await checkFor(10_000, 100, () => acl.counters.reloadFailures > 1, 'the misspelt key is seen');
      assert.match(acl.lastReloadError ?? '', /plain_acl\.yml:\d+: unknown account key "topicPerm"/);
    } finally {
      await app.close();
    }
  });
});
