// ACL on the gRPC v2 endpoint: the 5.x clients' `authorization` header
// ("MQv2-HMAC-SHA1 Credential=<ak>, SignedHeaders=x-mq-date-time, Signature=<hex>", an HMAC-SHA1
// of the x-mq-date-time value) and the resources of each request message, as RocketMQ's
// PlainAccessResource.parse(GeneratedMessageV3); the decision is the remoting side's.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { MixAll } from '../common/index.js';
import { hostOf, Perm, type AclService, type AccessRequest } from '../remoting/acl/index.js';
import { ClientType } from './client-manager.js';
import { Code } from './grpc-code.js';
import type { GrpcHook } from './grpc-hooks.js';

interface Named {
  name?: string;
}

type Resources = [string, number][];

const group = (g: Named | undefined): [string, number] => [`${MixAll.RETRY_GROUP_TOPIC_PREFIX}${g?.name ?? ''}`, Perm.SUB];
const topic = (t: Named | undefined, perm: number): [string, number] => [t?.name ?? '', perm];

/** What a v2 request message touches (RocketMQ's mapping, plus the pull/offset and recall calls it predates). */
export function grpcResources(method: string, req: any): Resources {
  switch (method) {
    case 'QueryRoute':
      return [topic(req.topic, Perm.ANY)];
    case 'Heartbeat':
      return req.clientType === ClientType.PUSH_CONSUMER || req.clientType === ClientType.SIMPLE_CONSUMER || req.clientType === ClientType.PULL_CONSUMER
        ? [group(req.group)]
        : [];
    case 'SendMessage': {
      const msgs = (req.messages ?? []) as { topic?: Named }[];
      const topics = new Set(msgs.map((m) => m.topic?.name ?? ''));
      return [...(topics.size > 0 ? topics : new Set([''])).values()].map((t) => [t, Perm.PUB]);
    }
    case 'ReceiveMessage':
    case 'PullMessage':
    case 'UpdateOffset':
    case 'GetOffset':
    case 'QueryOffset':
      return [group(req.group), topic(req.messageQueue?.topic, Perm.SUB)];
    case 'QueryAssignment':
    case 'AckMessage':
    case 'ForwardMessageToDeadLetterQueue':
    case 'ChangeInvisibleDuration':
      return [group(req.group), topic(req.topic, Perm.SUB)];
    case 'EndTransaction':
    case 'RecallMessage':
      return [topic(req.topic, Perm.PUB)];
    case 'NotifyClientTermination':
      return req.group?.name ? [group(req.group)] : [];
    case 'Telemetry': {
      const s = req.settings;
      if (!s) return [];
      const out: Resources = [];
      for (const t of (s.publishing?.topics ?? []) as Named[]) out.push(topic(t, Perm.PUB));
      if (s.subscription) {
        out.push(group(s.subscription.group));
        for (const e of (s.subscription.subscriptions ?? []) as { topic?: Named }[]) out.push(topic(e.topic, Perm.SUB));
      }
      return out;
    }
    default:
      return [];
  }
}

/** Credential and Signature of an authorization header value; undefined when it is not one. */
export function parseAuthorization(value: string): { accessKey: string; signature: string } | undefined {
  const space = value.indexOf(' ');
  if (space < 0) return undefined;
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signature = fields.get('Signature');
  if (!credential || !signature) return undefined;
  const slash = credential.indexOf('/');
  return { accessKey: slash >= 0 ? credential.slice(0, slash) : credential, signature };
}

function first(md: grpc.Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return v === undefined ? undefined : String(v);
}

function signatureMatches(dateTime: string | undefined, given: string, secret: string): boolean {
  if (dateTime === undefined) return false;
  const want = Buffer.from(createHmac('sha1', secret).update(dateTime, 'utf8').digest('hex'));
  const got = Buffer.from(given.toLowerCase());
  return want.length === got.length && timingSafeEqual(want, got);
}

/** The hook that checks every gRPC request message with the broker's ACL. */
export function grpcAclHook(acl: AclService): GrpcHook {
  return {
    before: (ctx, request) => {
      const auth = first(ctx.metadata, 'authorization');
      const parsed = auth === undefined ? undefined : parseAuthorization(auth);
      const dateTime = first(ctx.metadata, 'x-mq-date-time');
      const r: AccessRequest = {
        host: hostOf(ctx.peer.replace(/^ipv[46]:/, '')),
        accessKey: parsed?.accessKey,
        signedWith: (secret) => parsed !== undefined && signatureMatches(dateTime, parsed.signature, secret),
        admin: false,
        what: ctx.method,
        resources: grpcResources(ctx.method, request),
      };
      const d = acl.check(r, 'grpc');
      if (!d) return undefined;
      return { code: d.kind === 'unauthenticated' ? Code.UNAUTHORIZED : Code.FORBIDDEN, message: d.message };
    },
  };
}
