// A broker group as separate `apogee broker` processes (a master and slaves on port 0, each with
// its own data directory) registered with one name server, for replication and failover tests.
// Members can be stopped, killed, frozen (SIGSTOP) and restarted over the same directory.
import { join } from 'node:path';
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
