// What a remoting request touches, for the ACL check: RocketMQ's PlainAccessResource.parse, plus
// the pop/ack/notification, offset-query, recall and lock codes RocketMQ 1.0 left unchecked
// (Apogee serves them, so they are checked like their pull/send equivalents).
import { MixAll } from '../../common/index.js';
import { ACL_FIELDS, RequestCode, requestCodeName, verifySignature, type RemotingCommand } from '../index.js';
import { Perm } from './plain-acl-config.js';
import type { AccessRequest } from './plain-access-validator.js';

/**
 * Requests only an admin account may make: RocketMQ's Permission.ADMIN_CODE plus the offset
 * resets (which rewrite any group's position) and the ACL write commands.
 */
export const ADMIN_CODES: ReadonlySet<number> = new Set([
  RequestCode.UPDATE_AND_CREATE_TOPIC,
  RequestCode.UPDATE_AND_CREATE_TOPIC_LIST,
  RequestCode.UPDATE_BROKER_CONFIG,
  RequestCode.DELETE_TOPIC_IN_BROKER,
  RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
  RequestCode.DELETE_SUBSCRIPTIONGROUP,
  RequestCode.UPDATE_AND_CREATE_ACL_CONFIG,
  RequestCode.DELETE_ACL_CONFIG,
  RequestCode.GET_BROKER_CLUSTER_ACL_INFO,
  RequestCode.UPDATE_GLOBAL_WHITE_ADDRS_CONFIG,
  RequestCode.GET_BROKER_CLUSTER_ACL_CONFIG,
  RequestCode.INVOKE_BROKER_TO_RESET_OFFSET,
  RequestCode.RESET_CONSUMER_OFFSET_IN_BROKER,
]);

const RETRY = MixAll.RETRY_GROUP_TOPIC_PREFIX;
const retryOf = (group: string | undefined): string => `${RETRY}${group ?? ''}`;

type Resources = [string, number][];

/** A topic that is a group's retry topic is consumed, not published (a consumer's send-back). */
function sendPerm(topic: string | undefined): number {
  return topic?.startsWith(RETRY) ? Perm.SUB : Perm.PUB;
}

function heartbeatResources(body: Buffer | undefined, out: Resources): void {
  if (!body || body.length === 0) return;
  let hb: { consumerDataSet?: { groupName?: string; subscriptionDataSet?: { topic?: string }[] }[] };
  try {
    hb = JSON.parse(body.toString('utf8')) as typeof hb;
  } catch {
    return; // the heartbeat processor answers the malformed body; nothing here is granted by it
  }
  for (const c of hb.consumerDataSet ?? []) {
    out.push([retryOf(c.groupName), Perm.SUB]);
    for (const s of c.subscriptionDataSet ?? []) if (s.topic) out.push([s.topic, Perm.SUB]);
  }
}

function lockGroup(body: Buffer | undefined, out: Resources): void {
  try {
    const b = JSON.parse(body?.toString('utf8') ?? '{}') as { consumerGroup?: string };
    out.push([retryOf(b.consumerGroup), Perm.SUB]);
  } catch {
    out.push([retryOf(''), Perm.SUB]);
  }
}

/** The resources a request needs, with the permission for each. */
export function remotingResources(cmd: RemotingCommand): Resources {
  const e = cmd.extFields;
  const out: Resources = [];
  const body = Buffer.isBuffer(cmd.body) ? cmd.body : undefined;
  switch (cmd.code) {
    case RequestCode.SEND_MESSAGE:
      out.push([e.topic, sendPerm(e.topic)]);
      break;
    case RequestCode.SEND_MESSAGE_V2:
    case RequestCode.SEND_BATCH_MESSAGE:
      out.push([e.b, sendPerm(e.b)]);
      break;
    case RequestCode.RECALL_MESSAGE:
      out.push([e.topic, Perm.PUB]);
      break;
    case RequestCode.CONSUMER_SEND_MSG_BACK:
      out.push([retryOf(e.group), Perm.SUB]);
      break;
    case RequestCode.PULL_MESSAGE:
    case RequestCode.LITE_PULL_MESSAGE:
    case RequestCode.POP_MESSAGE:
    case RequestCode.PEEK_MESSAGE:
    case RequestCode.ACK_MESSAGE:
    case RequestCode.CHANGE_MESSAGE_INVISIBLETIME:
    case RequestCode.NOTIFICATION:
    case RequestCode.POLLING_INFO:
    case RequestCode.UPDATE_CONSUMER_OFFSET:
    case RequestCode.QUERY_CONSUMER_OFFSET:
      out.push([e.topic, Perm.SUB], [retryOf(e.consumerGroup), Perm.SUB]);
      break;
    case RequestCode.QUERY_MESSAGE:
      out.push([e.topic, Perm.SUB]);
      break;
    case RequestCode.HEART_BEAT:
      heartbeatResources(body, out);
      break;
    case RequestCode.UNREGISTER_CLIENT:
      if (e.consumerGroup) out.push([retryOf(e.consumerGroup), Perm.SUB]);
      break;
    case RequestCode.GET_CONSUMER_LIST_BY_GROUP:
      out.push([retryOf(e.consumerGroup), Perm.SUB]);
      break;
    case RequestCode.LOCK_BATCH_MQ:
    case RequestCode.UNLOCK_BATCH_MQ:
      lockGroup(body, out);
      break;
    default:
      break;
  }
  // A resource field the request lacks is checked as the empty name: denied unless defaults allow.
  for (const r of out) r[0] ??= '';
  return out;
}

/**
 * Name-server requests that change what the cluster sees (broker registration and its heartbeat,
 * topics, KV config, write permissions, the server's config): only an admin account may make
 * them, so the cluster account brokers sign with is an admin there. Route and cluster reads need
 * any valid account. RocketMQ's own name server checks nothing; its ACL 2.0 marks these same
 * headers as cluster UPDATE (and the reads as GET), which is the split kept here.
 */
export const NAMESRV_WRITE_CODES: ReadonlySet<number> = new Set([
  RequestCode.REGISTER_BROKER,
  RequestCode.UNREGISTER_BROKER,
  RequestCode.BROKER_HEARTBEAT,
  RequestCode.PUT_KV_CONFIG,
  RequestCode.DELETE_KV_CONFIG,
  RequestCode.DELETE_TOPIC_IN_NAMESRV,
  RequestCode.REGISTER_TOPIC_IN_NAMESRV,
  RequestCode.WIPE_WRITE_PERM_OF_BROKER,
  RequestCode.ADD_WRITE_PERM_OF_BROKER,
  RequestCode.UPDATE_NAMESRV_CONFIG,
]);

/** The AccessRequest of a request to a name server: writes need admin, nothing is per topic. */
export function namesrvAccess(cmd: RemotingCommand, host: string): AccessRequest {
  return signedAccess(cmd, host, NAMESRV_WRITE_CODES.has(cmd.code), []);
}

/** What every remoting AccessRequest shares: the signer's key and the check of its signature. */
function signedAccess(cmd: RemotingCommand, host: string, admin: boolean, resources: AccessRequest['resources']): AccessRequest {
  const e = cmd.extFields;
  const body = Buffer.isBuffer(cmd.body) ? cmd.body : undefined;
  return {
    host,
    accessKey: e[ACL_FIELDS.ACCESS_KEY],
    signedWith: (secret) => verifySignature(e, body, secret),
    admin,
    what: requestCodeName(cmd.code),
    resources,
  };
}

/** The AccessRequest of a remoting request from `remote` ("ip:port"). */
export function remotingAccess(cmd: RemotingCommand, host: string): AccessRequest {
  return signedAccess(cmd, host, ADMIN_CODES.has(cmd.code), remotingResources(cmd));
}
