import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  ACL_FIELDS,
  aclSignature,
  decodeCommand,
  RequestCode,
  signRequest,
  verifySignature,
} from '../../src/remoting/index.js';
import { AliChannelClass, AliRemotingCommand, type AliChannel } from './ali-ons.js';

/** The rule written out independently: values of all fields but Signature, sorted by key, then the body. */
function expected(ext: Record<string, string>, body: Buffer | undefined, secret: string): string {
  const keys = Object.keys(ext).filter((k) => k !== 'Signature');
  keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const text = keys.map((k) => ext[k]).join('');
  return createHmac('sha1', secret)
    .update(Buffer.concat([Buffer.from(text, 'utf8'), body ?? Buffer.alloc(0)]))
    .digest('base64');
}

void describe('acl signature', () => {
  void test('acl signature - matches an independent HMAC-SHA1 over sorted values and body', () => {
    const ext = { topic: 'T', AccessKey: 'ak', b: '2', a: '1', OnsChannel: 'ALIYUN', Signature: 'ignored', ü: 'é' };
    const body = Buffer.from('message body');
    assert.equal(aclSignature(ext, body, 'secret'), expected(ext, body, 'secret'));
    assert.equal(aclSignature(ext, undefined, 'secret'), expected(ext, undefined, 'secret'));
    assert.equal(aclSignature(ext, Buffer.alloc(0), 'secret'), aclSignature(ext, undefined, 'secret'));
  });

  void test('acl signature - a known value', () => {
    // printf 'akALIYUNTbody' | openssl dgst -sha1 -hmac secret -binary | base64
    const want = 'i9z7LpFNbojIYHc8ynRVlfVOULo=';
    assert.equal(aclSignature({ topic: 'T', AccessKey: 'ak', OnsChannel: 'ALIYUN' }, Buffer.from('body'), 'secret'), want);
  });

  void test('acl signature - property: equals the independent computation', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 20 })), { maxLength: 10 }),
        fc.option(fc.uint8Array({ maxLength: 100 }), { nil: undefined }),
        fc.string({ minLength: 1, maxLength: 16 }),
        (entries, body, secret) => {
          const ext = Object.fromEntries(entries) as Record<string, string>;
          const b = body ? Buffer.from(body) : undefined;
          assert.equal(aclSignature(ext, b, secret), expected(ext, b, secret));
        },
      ),
      { numRuns: 300 },
    );
  });

  void test('acl signature - signRequest then verifySignature; any change breaks it', () => {
    const ext: Record<string, string> = { topic: 'T', queueId: '1' };
    const body = Buffer.from('abc');
    signRequest(ext, body, 'ak', 'sk');
    assert.equal(ext[ACL_FIELDS.ACCESS_KEY], 'ak');
    assert.ok(ext[ACL_FIELDS.SIGNATURE]);
    assert.equal(verifySignature(ext, body, 'sk'), true);
    assert.equal(verifySignature(ext, body, 'other'), false);
    assert.equal(verifySignature(ext, Buffer.from('abd'), 'sk'), false);
    assert.equal(verifySignature({ ...ext, queueId: '2' }, body, 'sk'), false);
    assert.equal(verifySignature({ ...ext, extra: 'x' }, body, 'sk'), false);
    assert.equal(verifySignature({ ...ext, Signature: '' }, body, 'sk'), false);
    assert.equal(verifySignature({ ...ext, Signature: 'short' }, body, 'sk'), false);
    const { Signature: _, ...unsigned } = ext;
    assert.equal(verifySignature(unsigned, body, 'sk'), false);
  });

  void test('acl signature - verifies what ali-ons signs', () => {
    // The ali-ons channel signs in beforeRequest; call it on an unconnected instance's prototype.
    const signer = Object.create(AliChannelClass.prototype as object, {
      accessKey: { value: 'myAccessKey' },
      secretKey: { value: 'mySecretKey' },
      onsChannel: { value: 'ALIYUN' },
    }) as AliChannel;
    const c = AliRemotingCommand.createRequestCommand(RequestCode.SEND_MESSAGE_V2, {
      a: 'group',
      b: 'TopicTest',
      d: 4,
      e: 2,
      g: 1700000000123,
      k: false,
      i: 'TAGS\u0001t\u0002',
      l: undefined,
    });
    c.body = Buffer.from('signed body');
    signer.beforeRequest(c);
    const got = decodeCommand(c.encode());
    assert.equal(got.extFields.AccessKey, 'myAccessKey');
    assert.equal(got.extFields.OnsChannel, 'ALIYUN');
    assert.equal(got.extFields.Signature, aclSignature(got.extFields, got.body as Buffer, 'mySecretKey'));
    assert.equal(verifySignature(got.extFields, got.body as Buffer, 'mySecretKey'), true);
    assert.equal(verifySignature(got.extFields, got.body as Buffer, 'wrong'), false);
  });
});
