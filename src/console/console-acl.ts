// Console login with the cluster's ACL 1.0 accounts (plain_acl.yml): the user is an accessKey, the
// password its secretKey. The console holds no copy of the accounts (`apogee console -n` runs on
// another machine than the brokers); a master broker decides, by answering requests signed with
// them. An admin account logs in; any other is refused (the console's pages create, delete and
// reset, and a broker answers its admin requests to admin accounts only). Once in, the console
// signs its requests to the cluster with the account of the session that used it last.
import { randomBytes } from 'node:crypto';
import { ACL_FIELDS, createRequest, RequestCode, ResponseCode, signRequest, type RemotingCommand } from '../remoting/index.js';

export interface AclCredentials {
  accessKey: string;
  secretKey: string;
}

export type AclLoginResult =
  | { ok: true }
  | { ok: false; status: 401 | 403 | 503; error: string };

/** Sends one request to a broker (the console's remoting client) and answers the broker's answer. */
export type BrokerInvoke = (addr: string, cmd: RemotingCommand) => Promise<RemotingCommand>;

/** Signs the console's requests; a request signed already (a login check) keeps its signature. */
export class ConsoleSigner {
  private current: AclCredentials | undefined;

  readonly hook = (cmd: RemotingCommand): void => {
    const c = this.current;
    if (!c || cmd.extFields[ACL_FIELDS.ACCESS_KEY] !== undefined) return;
    signRequest(cmd.extFields, Buffer.isBuffer(cmd.body) ? cmd.body : undefined, c.accessKey, c.secretKey);
  };

  /** The account of the session making a request: it signs what follows, background reads included. */
  use(c: AclCredentials | undefined): void {
    if (c) this.current = c;
  }

  /** A logged-out account stops signing (the next session's request brings its own). */
  forget(c: AclCredentials | undefined): void {
    if (c && this.current?.accessKey === c.accessKey) this.current = undefined;
  }
}

function signed(code: number, c: AclCredentials): RemotingCommand {
  const cmd = createRequest(code);
  signRequest(cmd.extFields, undefined, c.accessKey, c.secretKey);
  return cmd;
}

/**
 * Whether a master accepts the account as an admin. Three requests: GET_BROKER_CLUSTER_ACL_INFO
 * (an admin request) signed with a random secret must be refused, else the broker does not check
 * this console's requests (ACL off, or its address white-listed) and cannot vouch for a secret;
 * then signed with the account it tells an admin; GET_BROKER_RUNTIME_INFO (no resource, any
 * account) tells a non-admin account from a wrong secret or an unknown key.
 */
export async function checkAclLogin(invoke: BrokerInvoke, masterAddr: string, c: AclCredentials): Promise<AclLoginResult> {
  const bogus = await invoke(masterAddr, signed(RequestCode.GET_BROKER_CLUSTER_ACL_INFO, { accessKey: c.accessKey, secretKey: randomBytes(24).toString('base64url') }));
  if (bogus.code !== ResponseCode.NO_PERMISSION) {
    return { ok: false, status: 503, error: `broker ${masterAddr} does not check this console's requests (aclEnable off, or a white-listed address): ACL accounts cannot be verified` };
  }
  const admin = await invoke(masterAddr, signed(RequestCode.GET_BROKER_CLUSTER_ACL_INFO, c));
  if (admin.code === ResponseCode.SUCCESS) return { ok: true };
  const known = await invoke(masterAddr, signed(RequestCode.GET_BROKER_RUNTIME_INFO, c));
  if (known.code === ResponseCode.SUCCESS) return { ok: false, status: 403, error: `accessKey ${c.accessKey} is not an admin account: the console needs one (admin: true in plain_acl.yml)` };
  return { ok: false, status: 401, error: 'wrong user or password' };
}
