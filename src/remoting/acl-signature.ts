// ACL 1.0 style request signature (ali-ons, Java AclClientRPCHook): HMAC-SHA1 over the values of
// all extFields except Signature, sorted by key, followed by the raw body; Base64.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const ACL_FIELDS = { ACCESS_KEY: 'AccessKey', SIGNATURE: 'Signature', SECURITY_TOKEN: 'SecurityToken' } as const;

export function aclSignature(extFields: Record<string, string>, body: Buffer | undefined, secretKey: string): string {
  const keys = Object.keys(extFields)
    .filter((k) => k !== ACL_FIELDS.SIGNATURE)
    .sort();
  const hmac = createHmac('sha1', secretKey);
  for (const k of keys) hmac.update(extFields[k], 'utf8');
  if (body && body.length > 0) hmac.update(body);
  return hmac.digest('base64');
}

/** Adds AccessKey and Signature to a request's extFields (the body must be final). */
export function signRequest(
  extFields: Record<string, string>,
  body: Buffer | undefined,
  accessKey: string,
  secretKey: string,
): void {
  extFields[ACL_FIELDS.ACCESS_KEY] = accessKey;
  extFields[ACL_FIELDS.SIGNATURE] = aclSignature(extFields, body, secretKey);
}

/** Checks a request's Signature with the secret of its AccessKey; constant-time compare. */
export function verifySignature(extFields: Record<string, string>, body: Buffer | undefined, secretKey: string): boolean {
  const given = extFields[ACL_FIELDS.SIGNATURE];
  if (!given) return false;
  const want = Buffer.from(aclSignature(extFields, body, secretKey));
  const got = Buffer.from(given);
  return want.length === got.length && timingSafeEqual(want, got);
}
