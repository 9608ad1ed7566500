// A broker group as separate `apogee broker` processes (a master and slaves on port 0, each with
// its own data directory) registered with one name server, for replication and failover tests.
// Members can be stopped, killed, frozen (SIGSTOP) and restarted over the same directory.
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { startNamesrv } from '../../src/namesrv/index.js';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { checkFor } from './check-for.js';
import { spawnApogee, type ApogeeProcess } from './spawn-apogee.js';

export interface MemberSpec {
  brokerId: number;
  brokerRole: 'SYNC_MASTER' | 'ASYNC_MASTER' | 'SLAVE';
  extra?: string[];
}

export interface HaStatus {
  brokerId: number;
  master: boolean;
  epoch: number;
  masterCommitLogMaxOffset: number;
  inSyncSlaveNums: number;
  syncStateSet: number[];
  haConnectionInfo: { brokerId: number; slaveAckOffset: number; diff: number; inSync: boolean }[];
  haClientRuntimeInfo?: { masterAddr: string; maxOffset: number; isActivated: boolean; lastError: string };
}

export class Member {
  proc: ApogeeProcess | undefined;
  constructor(
    readonly spec: MemberSpec,
    readonly dataDir: string,
    private readonly args: () => string[],
  ) {}

  get addr(): string {
    return this.proc!.addresses.broker!;
  }

  get pid(): number {
    return this.proc!.child.pid!;
  }

  async start(): Promise<void> {
    this.proc = await spawnApogee(this.args(), { readyTimeoutMs: 30_000 });
  }

  async kill(): Promise<void> {
    if (this.proc) await this.proc.stop('SIGKILL', 5000);
  }

  freeze(): void {
    process.kill(this.pid, 'SIGSTOP');
  }

  thaw(): void {
    process.kill(this.pid, 'SIGCONT');
  }
}

export class BrokerGroup {
  readonly members: Member[];
  readonly rc = new RemotingClient();

  constructor(
    readonly namesrvAddr: string,
    root: string,
    specs: MemberSpec[],
    readonly brokerName = 'ha-group',
    common: string[] = [],
  ) {
    this.members = specs.map(
      (spec) =>
        new Member(spec, join(root, `member-${spec.brokerId}`), () => [
          'broker',
          '--listenPort=0',
          '--haListenPort=0',
          '--grpcServerPort=0',
          '--httpPort=0',
          '--host=127.0.0.1',
          '--brokerIP1=127.0.0.1',
          `--namesrvAddr=${namesrvAddr}`,
          `--brokerName=${brokerName}`,
          `--brokerId=${spec.brokerId}`,
          `--brokerRole=${spec.brokerRole}`,
          '--storePathRootDir',
          join(root, `member-${spec.brokerId}`),
          '--mappedFileSizeCommitLog=1048576',
          ...common,
          ...(spec.extra ?? []),
        ]),
    );
  }

  member(brokerId: number): Member {
    return this.members.find((m) => m.spec.brokerId === brokerId)!;
  }

  async startAll(): Promise<void> {
    for (const m of this.members) await m.start();
  }

  async haStatus(addr: string): Promise<HaStatus> {
    const resp = await this.rc.invoke(addr, createRequest(RequestCode.GET_BROKER_HA_STATUS, {}), 5000);
    if (resp.code !== ResponseCode.SUCCESS) throw new Error(`haStatus ${addr}: ${resp.code} ${resp.remark ?? ''}`);
    const body = Array.isArray(resp.body) ? Buffer.concat(resp.body) : resp.body!;
    return JSON.parse(body.toString()) as HaStatus;
  }

  /** Waits until the master sees every given slave in sync at its own max offset. */
  async waitInSync(master: Member, slaveIds: number[], timeoutMs = 15_000): Promise<HaStatus> {
    let last: HaStatus | undefined;
    await checkFor(timeoutMs, 100, async () => {
      last = await this.haStatus(master.addr);
      const max = last.masterCommitLogMaxOffset;
      return slaveIds.every((id) => last!.haConnectionInfo.some((c) => c.brokerId === id && c.inSync && c.slaveAckOffset === max));
    }, `slaves ${slaveIds.join(',')} in sync with the master`);
    return last!;
  }

  async createTopic(master: Member, topic: string, queueNums = 4): Promise<void> {
    const resp = await this.rc.invoke(master.addr, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic, readQueueNums: queueNums, writeQueueNums: queueNums, perm: 6 }));
    if (resp.code !== ResponseCode.SUCCESS) throw new Error(`create topic ${topic}: ${resp.code} ${resp.remark ?? ''}`);
    await checkFor(10_000, 50, async () => (await this.rc.invoke(this.namesrvAddr, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }))).code === ResponseCode.SUCCESS, `route for ${topic}`);
  }

  async close(): Promise<void> {
    for (const m of this.members) {
      try {
        if (m.proc) process.kill(m.pid, 'SIGCONT');
      } catch {
        // already gone
      }
      await m.kill();
    }
    await this.rc.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Controller-mode arguments for every member: roles from elections in the given etcd. */
export function controllerArgs(etcdEndpoint: string): string[] {
  return [
    '--enableControllerMode=true',
    `--etcdEndpoints=${etcdEndpoint}`,
    '--controllerLeaseTtlSec=3',
    '--controllerElectionSettleMs=300',
    '--haMaxTimeSlaveNotCatchup=2000',
    '--haSlaveSyncMetadataIntervalMs=300',
    '--syncFlushTimeout=3000',
    '--registerNameServerPeriod=1000',
  ];
}

/** The member that says it is master, among those given (undefined while none does). */
export async function masterOf(group: BrokerGroup, live: Member[]): Promise<Member | undefined> {
  for (const m of live) {
    try {
      if ((await group.haStatus(m.addr)).master) return m;
    } catch {
      // not answering (killed or starting)
    }
  }
  return undefined;
}

/** A name server (in this process) with a broker group registered with it, ready for a test. */
export interface RunningGroup {
  ns: Awaited<ReturnType<typeof startNamesrv>>;
  group: BrokerGroup;
  /** The member that takes writes: brokerId 0 in classic mode, the elected one in controller mode. */
  master: Member;
  /** The others, in the order of the members given. */
  slaves: Member[];
  close(): Promise<void>;
}

interface GroupStart {
  /** Data directories go below it. */
  dir: string;
  brokerName: string;
  /** Created on the master before the slaves are waited for. */
  topic: string;
  queues: number;
}

/**
 * Classic mode: a name server and a group of the given members, started, with the topic created
 * on the master (brokerId 0) and every slave in sync with it. Whatever started is stopped again
 * when a step fails.
 */
export async function startClassicGroup(o: GroupStart & { members: MemberSpec[]; flags: string[] }): Promise<RunningGroup> {
  return startGroup(o, o.members, o.flags, async (group) => group.member(0));
}

/**
 * Controller mode over the given etcd: three SYNC_MASTER members (ids 1-3) elect a master, which
 * gets the topic, with all three in the in-sync set stored in etcd and both slaves in sync.
 */
export async function startControllerGroup(o: GroupStart & { etcdEndpoint: string }): Promise<RunningGroup> {
  const members = [1, 2, 3].map((id) => ({ brokerId: id, brokerRole: 'SYNC_MASTER' as const }));
  return startGroup(o, members, controllerArgs(o.etcdEndpoint), (group) => checkFor(15_000, 100, () => masterOf(group, group.members), 'a master elected'), async (group, master) => {
    await checkFor(15_000, 100, async () => (await group.haStatus(master.addr)).syncStateSet.length === 3, 'all three in the stored in-sync set');
  });
}

async function startGroup(
  o: GroupStart,
  members: MemberSpec[],
  flags: string[],
  findMaster: (group: BrokerGroup) => Promise<Member>,
  beforeSync?: (group: BrokerGroup, master: Member) => Promise<void>,
): Promise<RunningGroup> {
  const ns = await startNamesrv(loadConfig('namesrv', { flags: { listenPort: 0, host: '127.0.0.1' } }));
  const group = new BrokerGroup(ns.addresses.namesrv, o.dir, members, o.brokerName, flags);
  const close = async (): Promise<void> => {
    await group.close();
    await ns.close();
  };
  try {
    await group.startAll();
    const master = await findMaster(group);
    await group.createTopic(master, o.topic, o.queues);
    await beforeSync?.(group, master);
    const slaves = group.members.filter((m) => m !== master);
    await group.waitInSync(master, slaves.map((m) => m.spec.brokerId));
    return { ns, group, master, slaves, close };
  } catch (err) {
    await close();
    throw err;
  }
}
