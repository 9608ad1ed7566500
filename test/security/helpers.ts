// Shared setup for the security suites: a standalone broker with ACL on over a plain_acl.yml in a
// temp dir, and a remoting client that signs as a given account.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequest, RemotingClient, RequestCode, ResponseCode, signRequest, type RemotingCommand } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone, type BrokerOverrides, type Standalone } from '../helpers/standalone.js';

export const ADMIN = { accessKey: 'adminKey01', secretKey: 'adminSecret01' };
export const APP = { accessKey: 'appKey0001', secretKey: 'appSecret0001' };
export const OTHER = { accessKey: 'otherKey01', secretKey: 'otherSecret01' };

/** Accounts most suites use: an admin, an app allowed on TopicA/GroupA only, and a second app account. */
export const BASE_ACL = `
globalWhiteRemoteAddresses: []
accounts:
  - accessKey: ${ADMIN.accessKey}
    secretKey: ${ADMIN.secretKey}
    admin: true
  - accessKey: ${APP.accessKey}
    secretKey: ${APP.secretKey}
    admin: false
    defaultTopicPerm: DENY
    defaultGroupPerm: DENY
    topicPerms:
      - TopicA=PUB|SUB
      - TopicSubOnly=SUB
    groupPerms:
      - GroupA=SUB
  - accessKey: ${OTHER.accessKey}
    secretKey: ${OTHER.secretKey}
    defaultTopicPerm: PUB|SUB
    defaultGroupPerm: SUB
`;

export interface AclStandalone {
  s: Standalone;
  dir: string;
  aclFile: string;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startAclStandalone(yaml: string, overrides: BrokerOverrides = {}): Promise<AclStandalone> {
  const dir = mkdtempSync(join(tmpdir(), 'apogee-acl-'));
  const aclFile = join(dir, 'plain_acl.yml');
  writeFileSync(aclFile, yaml);
  const s = await startStandalone({ aclEnable: true, aclConfigFile: aclFile, ...overrides }, join(dir, 'data'));
  const close = async (): Promise<void> => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { s, dir, aclFile, close, [Symbol.asyncDispose]: close };
}

/** A remoting client whose every request is signed as `who` (undefined = unsigned). */
export function signedClient(who: { accessKey: string; secretKey: string } | undefined): RemotingClient {
  return new RemotingClient({
    rpcHook: who ? (cmd: RemotingCommand) => signRequest(cmd.extFields, cmd.body as Buffer | undefined, who.accessKey, who.secretKey) : undefined,
  });
}

/** Creates topics (and waits for their routes) and groups as the admin account. */
export async function createAsAdmin(s: Standalone, topics: string[], groups: string[] = []): Promise<void> {
  const rc = signedClient(ADMIN);
  try {
    for (const topic of topics) {
      const r = await rc.invoke(s.brokerAddr, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic, readQueueNums: 4, writeQueueNums: 4, perm: 6 }));
      if (r.code !== ResponseCode.SUCCESS) throw new Error(`create topic ${topic}: ${r.code} ${r.remark ?? ''}`);
    }
    for (const groupName of groups) {
      const body = Buffer.from(JSON.stringify({ groupName, retryMaxTimes: 16 }));
      const r = await rc.invoke(s.brokerAddr, createRequest(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, body));
      if (r.code !== ResponseCode.SUCCESS) throw new Error(`create group ${groupName}: ${r.code} ${r.remark ?? ''}`);
    }
    for (const topic of topics) {
      await checkFor(5000, 50, async () => (await rc.invoke(s.namesrvAddr, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }))).code === ResponseCode.SUCCESS, `route of ${topic}`);
    }
  } finally {
    await rc.close();
  }
}

/** A TCP connection to a loopback port from the given local address (127.0.0.x). */
export function openFrom(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** n connections from 127.0.0.2, each counted when the server closes it; destroy() ends them all. */
export interface Flood {
  sockets: Socket[];
  closedByServer(): number;
  destroy(): void;
}

export async function flood(port: number, n: number): Promise<Flood> {
  const sockets: Socket[] = [];
  let closed = 0;
  const f: Flood = { sockets, closedByServer: () => closed, destroy: () => sockets.forEach((s) => s.destroy()) };
  try {
    for (let i = 0; i < n; i++) {
      const sock = await openFrom(port, '127.0.0.2');
      sock.on('error', () => undefined);
      sock.once('close', () => closed++);
      sockets.push(sock);
    }
  } catch (err) {
    f.destroy();
    throw err;
  }
  return f;
}

/** The client's typed error from a promise that must fail (startup failures are wrapped; the server's code is at the bottom). */
export async function refusal(p: Promise<unknown>): Promise<Error & { code?: number }> {
  try {
    await p;
  } catch (err) {
    let e = err as Error & { code?: number };
    while (e.code === undefined && e.cause instanceof Error) e = e.cause as Error & { code?: number };
    return e;
  }
  throw new Error('expected a refusal');
}
