// The ACL 1.0 decision, once for both protocols (RocketMQ's PlainPermissionManager.validate and
// PlainPermissionChecker): global white list, account, the account's white address, signature,
// admin, then each resource's permission. Protocol adapters say what a request touches; this
// says yes or why not.
import { MixAll } from '../../common/index.js';
import { addressMatches, permits, type PlainAccount, type PlainAclConfig } from './plain-acl-config.js';

/** What one request asks for, as the protocol adapter read it. */
export interface AccessRequest {
  /** Client host without port. */
  host: string;
  /** Undefined when the request carries none. */
  accessKey: string | undefined;
  /** Checks the request's signature with a secret (constant-time inside). */
  signedWith(secretKey: string): boolean;
  /** The request needs an admin account. */
  admin: boolean;
  /** What the request is, for remarks ("SEND_MESSAGE_V2", "SendMessage"). */
  what: string;
  /** Resources and the permission each needs; groups as %RETRY%<group>, as RocketMQ keys them. */
  resources: ReadonlyArray<readonly [resource: string, perm: number]>;
}

export type Denial =
  /** Who is calling is not established: no key, unknown key, bad signature. */
  | { kind: 'unauthenticated'; accessKey: string | undefined; message: string }
  /** The caller is known but may not do this. */
  | { kind: 'forbidden'; accessKey: string; resource: string; message: string };

const TRACE_TOPIC = 'RMQ_SYS_TRACE_TOPIC';
const RETRY = MixAll.RETRY_GROUP_TOPIC_PREFIX;

export class PlainAccessValidator {
  private readonly byKey: Map<string, PlainAccount>;

  constructor(readonly config: PlainAclConfig) {
    this.byKey = new Map(config.accounts.map((a) => [a.accessKey, a]));
  }

  account(accessKey: string): PlainAccount | undefined {
    return this.byKey.get(accessKey);
  }

  /** Undefined when the request may proceed, else why not (the message names account and resource). */
  validate(r: AccessRequest): Denial | undefined {
    for (const p of this.config.globalWhiteRemoteAddresses) if (addressMatches(p, r.host)) return undefined;
    if (!r.accessKey) return { kind: 'unauthenticated', accessKey: undefined, message: `${r.what} from ${r.host}: no AccessKey (the request is not signed)` };
    const acc = this.byKey.get(r.accessKey);
    if (!acc) return { kind: 'unauthenticated', accessKey: r.accessKey, message: `${r.what}: no ACL account for accessKey ${r.accessKey}` };
    if (acc.whiteRemoteAddress && addressMatches(acc.whiteRemoteAddress, r.host)) return undefined;
    if (!r.signedWith(acc.secretKey)) {
      return { kind: 'unauthenticated', accessKey: r.accessKey, message: `${r.what}: signature check failed for accessKey ${r.accessKey}` };
    }
    // Trace records are written by every client with trace on, whatever its topic rights.
    if (r.resources.some(([res, perm]) => res === TRACE_TOPIC && perm === 4)) return undefined;
    if (r.admin && !acc.admin) {
      return { kind: 'forbidden', accessKey: acc.accessKey, resource: r.what, message: `${r.what} needs an admin account; accessKey ${acc.accessKey} is not admin` };
    }
    // RocketMQ lets an admin without any explicit permission list through every resource.
    if (acc.admin && acc.topicPerms.size === 0 && acc.groupPerms.size === 0) return undefined;
    for (const [res, need] of r.resources) {
      const isGroup = res.startsWith(RETRY);
      const name = isGroup ? res.slice(RETRY.length) : res;
      const owned = isGroup ? (acc.groupPerms.get(name) ?? acc.groupPerms.get(res)) : acc.topicPerms.get(res);
      const explicit = owned !== undefined;
      const bits = owned ?? (isGroup ? acc.defaultGroupPerm : acc.defaultTopicPerm);
      if (!permits(need, bits)) {
        const label = isGroup ? `group ${name}` : `topic ${res}`;
        const why = explicit ? 'its permission for it does not allow' : 'its default permission does not allow';
        return { kind: 'forbidden', accessKey: acc.accessKey, resource: label, message: `${r.what}: accessKey ${acc.accessKey} has no ${needName(need)} permission on ${label} (${why} it)` };
      }
    }
    return undefined;
  }
}

function needName(bits: number): string {
  if (bits & 2) return 'PUB or SUB';
  return bits & 4 ? 'PUB' : 'SUB';
}
