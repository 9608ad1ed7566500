// The broker's side of the alarm engine (issue 14): the view it evaluates rules against, read from
// the broker's own tables and store, and the wiring that starts and stops the engine with the
// broker. The engine lives below the broker (src/observability/alarms) and sees only this view.
import { resolve } from 'node:path';
import { readLong } from '../common/message-bytes.js';
import { RecordPos, storeTimestampPos } from '../common/message-codec.js';
import { MixAll, TopicValidator } from '../common/message-const.js';
import type { Logger } from '../common/logger.js';
import { ConfigError } from '../config/index.js';
import {
  AlarmEngine,
  AlarmRulesError,
  defaultRules,
  readRulesFile,
  type AlarmRuleSet,
  type LoadedRules,
  type AlarmView,
  type BrokerEntry,
  type HalfMessages,
  type ReplicaLag,
  type TopicProgress,
} from '../observability/alarms/index.js';
import { clientTlsOf, createRequest, RemotingClient, RequestCode, ResponseCode, bodyOf } from '../remoting/index.js';
import type { ClusterInfo } from '../remoting/protocol/route.js';
import { innerClientSigner } from './acl/inner-client-signer.js';
import { GetMessageStatus } from '../store/index.js';
import type { BrokerParts } from './broker-parts.js';
import { TransactionConst } from './transaction/transaction-const.js';
import type { TransactionalMessageService } from './transaction/transactional-message-service.js';

/** What the view reads: the broker's parts plus its transaction and replication state. */
export interface AlarmBrokerParts
  extends Pick<BrokerParts, 'config' | 'store' | 'subscriptionGroupManager' | 'consumerOffsetManager' | 'consumerManager' | 'stats' | 'brokerAddr'> {
  readonly transactionService: Pick<TransactionalMessageService, 'halfOffset' | 'isDecided'>;
  readonly replication: { readonly role: string; slaves(): readonly { brokerId: number; address: string; lagBytes: number }[] };
}

/** Groups the broker runs for itself or that tools use; their offsets are cursors, not consumers. */
const SYSTEM_GROUPS = new Set(['TOOLS_CONSUMER', 'FILTERSRV_CONSUMER', '__MONITOR_CONSUMER', 'SELF_TEST_C_GROUP', 'CID_ONS-HTTP-PROXY', 'CID_ONSAPI_PERMISSION', 'CID_ONSAPI_OWNER', 'CID_ONSAPI_PULL']);
const isSystemGroup = (g: string): boolean => SYSTEM_GROUPS.has(g) || g.startsWith('CID_RMQ_SYS_') || g === TransactionConst.CHECK_GROUP;
/** A scan of the half queue reads at most this many records per evaluation. */
const HALF_SCAN_MAX = 4096;
const NAMESRV_TIMEOUT_MS = 3000;

export class BrokerAlarmView implements AlarmView {
  private readonly client: RemotingClient;
  private readonly namesrvs: string[];

  constructor(
    private readonly b: AlarmBrokerParts,
    private readonly now: () => number = Date.now,
  ) {
    // Signed like the broker's registration: a name server with ACL answers only known accounts.
    this.client = new RemotingClient({ connectTimeoutMs: NAMESRV_TIMEOUT_MS, rpcHook: innerClientSigner(b.config.innerClientAuthenticationCredentials), tls: clientTlsOf(b.config) });
    this.namesrvs = b.config.namesrvAddr
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean);
  }

  get cluster(): string {
    return this.b.config.brokerClusterName;
  }
  get brokerName(): string {
    return this.b.config.brokerName;
  }
  get brokerId(): number {
    return this.b.config.brokerId;
  }
  get brokerAddr(): string {
    return this.b.brokerAddr;
  }

  isMaster(): boolean {
    return this.b.replication.role === 'MASTER';
  }

  groups(): string[] {
    const out = new Set<string>();
    for (const g of this.b.subscriptionGroupManager.groups) out.add(g.groupName);
    for (const g of this.b.consumerManager.groups) out.add(g.groupName);
    return [...out].filter((g) => !isSystemGroup(g)).sort();
  }

  async progress(group: string, extraTopics: readonly string[], withAge: boolean): Promise<TopicProgress[]> {
    const online = this.b.consumerManager.getConsumerGroupInfo(group);
    // Broadcasting consumers keep their offsets themselves: the broker cannot tell their lag.
    if (online?.messageModel === 'BROADCASTING') return [];
    const topics = new Set(this.b.consumerOffsetManager.whichTopicByGroup(group));
    for (const t of online?.subscriptions.keys() ?? []) topics.add(t);
    for (const t of extraTopics) topics.add(t);
    const out: TopicProgress[] = [];
    for (const topic of [...topics].sort()) out.push(await this.topicProgress(group, topic, withAge));
    return out;
  }

  private async topicProgress(group: string, topic: string, withAge: boolean): Promise<TopicProgress> {
    const { store, consumerOffsetManager: offsets } = this.b;
    let lag = 0;
    let oldestAgeMs = 0;
    for (const q of store.getQueueIds(topic)) {
      const max = store.getMaxOffsetInQueue(topic, q);
      const min = store.getMinOffsetInQueue(topic, q);
      const committed = offsets.queryOffset(group, topic, q);
      // No committed offset: a new consumer reads from the first kept message (the 4.x rule for
      // a queue whose start is still kept); an offset below the kept range moves up to it.
      const from = Math.max(committed, min);
      if (max <= from) continue;
      lag += max - from;
      if (withAge) {
        const stored = await this.storeTimeAt(topic, q, from);
        if (stored > 0) oldestAgeMs = Math.max(oldestAgeMs, this.now() - stored);
      }
    }
    return { topic, lag, oldestAgeMs };
  }

  /** Store time of the message at a queue offset; 0 when it is gone. */
  private async storeTimeAt(topic: string, queueId: number, offset: number): Promise<number> {
    const r = await this.b.store.getMessage(topic, queueId, offset, 1);
    if (r.status !== GetMessageStatus.FOUND || r.buffers.length === 0) return 0;
    const rec = r.buffers[0];
    return readLong(rec, storeTimestampPos(rec.readInt32BE(RecordPos.SYSFLAG)));
  }

  dlqMessages(group: string): number {
    const topic = MixAll.DLQ_GROUP_TOPIC_PREFIX + group;
    let total = 0;
    for (const q of this.b.store.getQueueIds(topic)) total += this.b.store.getMaxOffsetInQueue(topic, q);
    return total;
  }

  diskUsagePercent(): number {
    return this.b.store.diskUsageRatio() * 100;
  }

  sendFailuresTotal(): number {
    return this.b.stats.putFailures;
  }

  async brokers(): Promise<BrokerEntry[] | undefined> {
    const answers = await Promise.all(this.namesrvs.map((addr) => this.clusterInfo(addr)));
    const listed = answers.filter((a): a is ClusterInfo => a !== undefined);
    if (listed.length === 0) return undefined;
    const out = new Map<string, BrokerEntry>();
    for (const info of listed) {
      for (const bd of Object.values(info.brokerAddrTable ?? {})) {
        for (const [id, addr] of Object.entries(bd.brokerAddrs ?? {})) {
          out.set(`${bd.brokerName}/${id}`, { cluster: bd.cluster, brokerName: bd.brokerName, brokerId: Number(id), addr });
        }
      }
    }
    return [...out.values()];
  }

  private async clusterInfo(addr: string): Promise<ClusterInfo | undefined> {
    try {
      const r = await this.client.invoke(addr, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO), NAMESRV_TIMEOUT_MS);
      if (r.code !== ResponseCode.SUCCESS) return undefined;
      return JSON.parse(bodyOf(r).toString('utf8')) as ClusterInfo;
    } catch {
      return undefined;
    }
  }

  replicationLag(): ReplicaLag[] | undefined {
    return this.b.replication.slaves().map((s) => ({ brokerId: s.brokerId, address: s.address, lagBytes: s.lagBytes }));
  }

  /** Undecided half messages lie above the check cursor; re-appended copies keep their born time. */
  async halfMessages(): Promise<HalfMessages> {
    const { store } = this.b;
    const tx = this.b.transactionService;
    const topic = TopicValidator.RMQ_SYS_TRANS_HALF_TOPIC;
    const end = store.getMaxOffsetInQueue(topic, 0);
    let offset = Math.max(tx.halfOffset, store.getMinOffsetInQueue(topic, 0));
    let count = 0;
    let oldestBorn = 0;
    let read = 0;
    while (offset < end && read < HALF_SCAN_MAX) {
      const r = await store.getMessage(topic, 0, offset, Math.min(64, HALF_SCAN_MAX - read));
      if (r.buffers.length === 0) break;
      for (const rec of r.buffers) {
        const queueOffset = readLong(rec, RecordPos.QUEUEOFFSET);
        if (!tx.isDecided(queueOffset)) {
          count++;
          const born = readLong(rec, RecordPos.BORNTIMESTAMP);
          if (oldestBorn === 0 || born < oldestBorn) oldestBorn = born;
        }
      }
      read += r.buffers.length;
      offset = r.nextBeginOffset;
    }
    return { count, oldestAgeMs: oldestBorn > 0 ? Math.max(0, this.now() - oldestBorn) : 0, truncated: offset < end };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

export interface BrokerAlarmRules {
  readonly rules: AlarmRuleSet;
  /** Set when the rules come from alarmRulesFile. */
  readonly file?: LoadedRules;
}

/**
 * The rules a broker starts with: its file, or the defaults. A file that cannot be read or parsed
 * is a configuration error naming the file, the line and the cause (the CLI exits 2).
 */
export function loadAlarmRules(config: AlarmBrokerParts['config']): BrokerAlarmRules | undefined {
  if (config.alarmEvaluateIntervalMs === 0) return undefined;
  if (!config.alarmRulesFile) return { rules: defaultRules() };
  try {
    const file = readRulesFile(config.alarmRulesFile);
    return { rules: file.rules, file };
  } catch (err) {
    if (!(err instanceof AlarmRulesError)) throw err;
    const file = config.alarmRulesFile;
    throw new ConfigError(
      err.problems.map((p) => ({
        source: 'file' as const,
        key: 'alarmRulesFile',
        file,
        line: p.line > 0 ? p.line : undefined,
        message: `alarmRulesFile ${file}${p.line > 0 ? ` line ${p.line}` : ''}: ${p.message}`,
      })),
    );
  }
}

export interface BrokerAlarms {
  readonly engine: AlarmEngine;
  stop(): Promise<void>;
}

/** Starts evaluating the rules loadAlarmRules gave against the broker. */
export function startBrokerAlarms(b: AlarmBrokerParts, start: BrokerAlarmRules, logger: Logger): BrokerAlarms {
  const view = new BrokerAlarmView(b);
  const engine = new AlarmEngine({
    view,
    rules: start.rules,
    rulesFile: start.file ? resolve(b.config.alarmRulesFile) : undefined,
    loaded: start.file,
    evaluateIntervalMs: b.config.alarmEvaluateIntervalMs,
    logger: logger.child({ component: 'alarms' }),
  });
  engine.start();
  return {
    engine,
    stop: async () => {
      await view.close();
      await engine.stop();
    },
  };
}
