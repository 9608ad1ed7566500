// Composes one broker: the store, metadata managers, client tables, the remoting server with
// its processors, long polling, the delay scheduler and name-server registration.
import { mkdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { parseDelayLevels } from '../common/delay-levels.js';
import { silentLogger, type Logger } from '../common/logger.js';
import type { HostPort } from '../common/message-host.js';
import { TopicValidator } from '../common/message-const.js';
import { pickBrokerIP1, type BrokerConfig } from '../config/index.js';
import { clientTlsOf, createRequest, RemotingClient, RemotingServer, RequestCode, serverTlsOf, type RemotingChannel, type RequestHook } from '../remoting/index.js';
import { CONSUMER_GROUP_HEADER, encodeHeader } from '../remoting/protocol/index.js';
import { MessageStore, type DispatchRequest } from '../store/index.js';
import { innerClientSigner } from './acl/inner-client-signer.js';
import { BrokerOuterAPI, type BrokerIdentity } from './broker-outer-api.js';
import { BrokerStats } from './broker-stats.js';
import { ConsumerManager } from './clients/consumer-manager.js';
import { ProducerManager } from './clients/producer-manager.js';
import { ConsumerOffsetManager } from './consumer-offset-manager.js';
import { PullRequestHoldService } from './longpolling/pull-request-hold-service.js';
import { MessageRouter } from './message-router.js';
import type { BrokerParts } from './broker-parts.js';
import { createProcessors, registerProcessors, type DispatchTable } from './processor/register-processors.js';
import { RebalanceLockManager } from './rebalance-lock-manager.js';
import { ScheduleMessageService } from './schedule/schedule-message-service.js';
import { SubscriptionGroupManager } from './subscription-group-manager.js';
import { TopicConfigManager } from './topic-config-manager.js';
import { TransactionCheckService } from './transaction/transaction-check-service.js';
import { TransactionalMessageService } from './transaction/transactional-message-service.js';
import type { MessageRecord } from '../common/message-codec.js';
import { TimerMessageService } from './timer/timer-message-service.js';
import { PopService } from './pop/pop-service.js';
import { Replication, type ReplicaRole } from './ha/replication.js';
import { BrokerHooks } from './service/broker-hooks.js';
import { BrokerTrace } from './trace/broker-trace.js';
import { createBrokerServices, type BrokerServices } from './service/broker-services.js';

export interface BrokerStartOptions {
  logger?: Logger;
  /** Overrides for tests (e.g. a short first delay-scan). */
  scheduleFirstScanMs?: number;
  /** Remoting request hooks present from the first request on (ACL must not miss one). */
  requestHooks?: readonly RequestHook[];
}

const OFFSET_PERSIST_MS = 5000;
const CHANNEL_SCAN_MS = 10_000;

export class BrokerController implements BrokerParts {
  readonly logger: Logger;
  readonly store: MessageStore;
  readonly topicConfigManager: TopicConfigManager;
  readonly subscriptionGroupManager: SubscriptionGroupManager;
  readonly consumerOffsetManager: ConsumerOffsetManager;
  readonly consumerManager: ConsumerManager;
  readonly producerManager = new ProducerManager();
  readonly lockManager = new RebalanceLockManager();
  readonly pullRequestHoldService: PullRequestHoldService;
  readonly messageRouter: MessageRouter;
  readonly scheduleMessageService: ScheduleMessageService;
  readonly stats = new BrokerStats();
  readonly remotingServer: RemotingServer;
  readonly delayLevelsMs: number[];
  readonly transactionService: TransactionalMessageService;
  /** Send and consume hook points (trace, metrics, audit attach here). */
  readonly hooks: BrokerHooks;
  /** Broker-side message trace (docs/TRACE.md); set by init. */
  trace: BrokerTrace | undefined;
  /** The use cases both protocols call. */
  readonly services: BrokerServices;
  /** Every remoting request code the broker answers, with its handler. */
  readonly dispatchTable: DispatchTable;
  /** This broker's part in its group's replication (master or slave). */
  readonly replication: Replication;
  /** The replication listener's address (masters), "ip:port". */
  haAddr = '';
  readonly transactionCheckService: TransactionCheckService;
  /** Absent when timerWheelEnable is false. */
  readonly timerService: TimerMessageService | undefined;
  /** Called for every transaction check-back (the gRPC proxy forwards them over Telemetry). */
  readonly transactionCheckListeners: ((half: MessageRecord, realTopic: string) => void)[] = [];
  /** The address clients reach this broker at, "ip:port" (known after listen). */
  brokerAddr = '';
  storeHost: HostPort = { address: '127.0.0.1', port: 0 };
  private readonly outerClient: RemotingClient;
  private readonly outerApi: BrokerOuterAPI;
  private readonly timers: NodeJS.Timeout[] = [];
  private registerPending = false;
  private closed = false;
  /** Hooks other modules (timer, transactions, pop) add to see every dispatched message. */
  readonly dispatchListeners: ((d: DispatchRequest) => void)[] = [];

  private constructor(
    readonly config: BrokerConfig,
    store: MessageStore,
    logger: Logger,
    requestHooks: readonly RequestHook[] = [],
  ) {
    this.logger = logger;
    this.store = store;
    const configDir = join(config.storePathRootDir, 'config');
    this.delayLevelsMs = parseDelayLevels(config.messageDelayLevel);
    this.topicConfigManager = new TopicConfigManager({
      configDir,
      brokerName: config.brokerName,
      clusterName: config.brokerClusterName,
      autoCreateTopicEnable: config.autoCreateTopicEnable,
      defaultTopicQueueNums: config.defaultTopicQueueNums,
      delayLevelCount: this.delayLevelsMs.length,
      logger,
      onChange: (topics) => this.registerSoon(topics),
    });
    this.subscriptionGroupManager = new SubscriptionGroupManager(configDir, config.autoCreateSubscriptionGroup, logger);
    this.consumerOffsetManager = new ConsumerOffsetManager(configDir, logger);
    this.consumerManager = new ConsumerManager(config.channelExpiredTimeout, logger, (group, channels) =>
      this.notifyConsumerIdsChanged(group, channels),
    );
    this.messageRouter = new MessageRouter(this.delayLevelsMs);
    this.transactionService = new TransactionalMessageService(store, this.consumerOffsetManager, logger, () => this.storeHost, (m) => {
      this.messageRouter.route(m, '');
    });
    this.messageRouter.addStage(this.transactionService.routeStage, true);
    this.transactionCheckService = new TransactionCheckService(
      {
        brokerName: config.brokerName,
        store,
        topics: this.topicConfigManager,
        producers: this.producerManager,
        listeners: this.transactionCheckListeners,
        mayWrite: () => this.mayWrite(),
      },
      this.transactionService,
      {
        transactionTimeOut: config.transactionTimeOut,
        transactionCheckInterval: config.transactionCheckInterval,
        transactionCheckMax: config.transactionCheckMax,
      },
      logger,
    );
    if (config.timerWheelEnable) {
      this.timerService = new TimerMessageService(
        store,
        this.consumerOffsetManager,
        {
          brokerName: config.brokerName,
          timerMaxDelaySec: config.timerMaxDelaySec,
          timerPrecisionMs: config.timerPrecisionMs,
          storePathRootDir: config.storePathRootDir,
        },
        logger,
        Date.now,
        { mayWrite: () => this.mayWrite(), storeHost: () => this.storeHost, afterPut: (put) => this.replication.afterPut(put) },
      );
      this.messageRouter.addStage(this.timerService.routeStage);
    }
    this.scheduleMessageService = new ScheduleMessageService(store, this.delayLevelsMs, configDir, logger, Date.now, () => this.mayWrite());
    this.remotingServer = new RemotingServer({
      host: config.host,
      port: config.listenPort,
      logger,
      idleTimeoutMs: config.channelExpiredTimeout,
      hooks: requestHooks,
      tls: serverTlsOf(config),
      maxFrameLength: config.serverMaxFrameLength,
      maxInflight: config.serverMaxInflightPerConnection,
      maxConnectionsPerAddress: config.serverMaxConnectionsPerAddress,
      maxPendingWriteBytes: config.serverMaxPendingWriteBytes,
      requestTimeoutMs: config.serverRequestTimeoutMillis,
    });
    this.hooks = new BrokerHooks((err, hook) => logger.error({ err, hook }, 'a broker hook listener failed'));
    const parts = this.parts();
    this.outerClient = new RemotingClient({ logger, rpcHook: innerClientSigner(config.innerClientAuthenticationCredentials), tls: clientTlsOf(config) });
    const namesrvs = config.namesrvAddr
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean);
    this.outerApi = new BrokerOuterAPI(this.outerClient, namesrvs, logger);
    this.replication = new Replication({
      config,
      store,
      parts,
      client: this.outerClient,
      masterAddresses: () => this.outerApi.master,
      logger,
      onRoleChange: (role) => this.onRoleChange(role),
    });
    this.services = createBrokerServices({
      parts,
      hooks: this.hooks,
      router: this.messageRouter,
      transactions: this.transactionService,
      timers: this.timerService,
      storeHost: () => this.storeHost,
      brokerIP: () => this.brokerIP,
      replication: this.replication,
      createPopService: (retries) =>
        new PopService(
          { store, offsets: this.consumerOffsetManager, topics: this.topicConfigManager, retries, hooks: this.hooks, storeHost: () => this.storeHost, mayWrite: () => this.mayWrite() },
          logger,
        ),
    });
    const processors = createProcessors(parts, this.services, (p) => this.pullRequestHoldService.hold(p), this.replication);
    this.dispatchTable = processors.table;
    registerProcessors(this.remotingServer, processors);
    this.pullRequestHoldService = new PullRequestHoldService(processors.pull.wake);
    this.remotingServer.onChannelClose((ch) => {
      this.consumerManager.doChannelCloseEvent(ch);
      this.producerManager.doChannelCloseEvent(ch);
    });
  }

  static async start(config: BrokerConfig, opts: BrokerStartOptions = {}): Promise<BrokerController> {
    const logger = opts.logger ?? silentLogger;
    mkdirSync(join(config.storePathRootDir, 'config'), { recursive: true });
    let controller: BrokerController | undefined;
    const store = await MessageStore.open(
      {
        storePathRootDir: config.storePathRootDir,
        flushDiskType: config.flushDiskType,
        mappedFileSizeCommitLog: config.mappedFileSizeCommitLog,
        mappedFileSizeConsumeQueue: config.mappedFileSizeConsumeQueue,
        flushIntervalCommitLog: config.flushIntervalCommitLog,
        syncFlushTimeout: config.syncFlushTimeout,
        maxMessageSize: config.maxMessageSize + 64 * 1024,
        fileReservedTime: config.fileReservedTime,
        deleteWhen: config.deleteWhen,
        diskMaxUsedSpaceRatio: config.diskMaxUsedSpaceRatio,
        diskSpaceWarningLevelRatio: config.diskSpaceWarningLevelRatio,
        accessMessageInMemoryMaxBytes: config.accessMessageInMemoryMaxBytes || Math.floor((totalmem() * config.accessMessageInMemoryMaxRatio) / 100),
      },
      { logger, onDispatch: (d) => controller?.onDispatch(d) },
    );
    try {
      controller = new BrokerController(config, store, logger, opts.requestHooks);
      await controller.init(opts);
    } catch (err) {
      await store.shutdown();
      throw err;
    }
    return controller;
  }

  private async init(opts: BrokerStartOptions): Promise<void> {
    this.topicConfigManager.load();
    this.subscriptionGroupManager.load();
    this.consumerOffsetManager.load();
    this.scheduleMessageService.load();
    this.trace = new BrokerTrace({ config: this.config, store: this.store, topics: this.topicConfigManager, hooks: this.hooks, delayLevelsMs: this.delayLevelsMs, storeHost: () => this.storeHost, isMaster: () => this.replication.role === 'MASTER', logger: this.logger });
    const { port } = await this.remotingServer.listen();
    const ip = this.brokerIP;
    this.brokerAddr = `${ip}:${port}`;
    this.storeHost = { address: ip, port };
    this.pullRequestHoldService.start();
    this.scheduleFirstScanMs = opts.scheduleFirstScanMs ?? 1000;
    const haPort = await this.replication.start(port, this.brokerAddr, ip);
    if (haPort !== undefined) this.haAddr = `${ip}:${haPort}`;
    this.dispatchListeners.push(() => this.replication.notifyWritten());
    // Every member keeps its timer store in step with the wheel queue of its log; masters deliver.
    this.timerService?.startEnqueue();
    if (this.replication.role === 'MASTER') await this.startMasterServices();
    this.every(OFFSET_PERSIST_MS, () => this.consumerOffsetManager.persistIfDirty());
    this.every(CHANNEL_SCAN_MS, () => {
      this.consumerManager.scanNotActiveChannel();
      this.producerManager.scanNotActiveChannel(this.config.channelExpiredTimeout);
    });
    this.every(Math.min(Math.max(this.config.registerNameServerPeriod, 1000), 60_000), () => this.registerBrokerAll());
    // A slave learns its master from the name servers' answer: ask every second while it has none.
    if (!this.replication.controllerMode && this.replication.role === 'SLAVE') {
      this.every(1000, () => (this.replication.slave?.connected ? undefined : this.registerBrokerAll()));
    }
    await this.registerBrokerAll();
  }

  private scheduleFirstScanMs = 1000;
  private masterServices = false;

  /**
   * What writes to the store on its own (delays, timers, transaction checks, pop revival) runs on
   * the master only: a slave's log is the master's, byte for byte. Started at election and
   * stopped when deposed, any number of times (issue 12).
   */
  private async startMasterServices(): Promise<void> {
    if (this.masterServices) return;
    this.masterServices = true;
    this.scheduleMessageService.start(this.scheduleFirstScanMs);
    await this.transactionService.catchUpOps();
    this.transactionCheckService.start();
    this.services.pops.start();
    await this.timerService?.startDelivery();
  }

  private async stopMasterServices(): Promise<void> {
    if (!this.masterServices) return;
    this.masterServices = false;
    this.transactionCheckService.stop();
    this.services.pops.stop();
    await Promise.all([this.scheduleMessageService.stop(), this.timerService?.stopDelivery()]);
  }

  /**
   * Master-only writers check this before each write: between losing the role (a lease about to
   * lapse) and the role change reaching them, a deposed master must not write.
   */
  private mayWrite(): boolean {
    return this.replication.role === 'MASTER' && (this.replication.controller?.canActAsMaster() ?? true);
  }

  /** Controller mode: elected or deposed. Re-registers under the brokerId the new role has (0 for a master). */
  private async onRoleChange(role: ReplicaRole): Promise<void> {
    const before = this.identity;
    if (role === 'MASTER') await this.startMasterServices();
    else await this.stopMasterServices();
    await this.outerApi.unregisterBrokerAll({ ...before, brokerId: role === 'MASTER' ? this.config.brokerId : 0 }).catch(() => undefined);
    await this.registerBrokerAll();
  }

  private every(ms: number, fn: () => unknown): void {
    const t = setInterval(() => {
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => this.logger.error({ err }, 'periodic broker task failed'));
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  private onDispatch(d: DispatchRequest): void {
    if (!d.dispatchToQueue) {
      for (const l of this.dispatchListeners) l(d);
      return;
    }
    this.pullRequestHoldService.notifyMessageArriving(d.topic, d.queueId, d.queueOffset, d.tagsCode);
    if (d.topic === TopicValidator.RMQ_SYS_SCHEDULE_TOPIC) this.scheduleMessageService.notifyArrived(d.queueId);
    else if (d.topic === TopicValidator.RMQ_SYS_WHEEL_TIMER) this.timerService?.notifyArrived();
    this.services.pops.onDispatch(d.topic);
    for (const l of this.dispatchListeners) l(d);
  }

  /** brokerIP1, or the first non-internal IPv4 when it is not configured. */
  get brokerIP(): string {
    return (this.resolvedIP ??= this.config.brokerIP1 || pickBrokerIP1());
  }
  private resolvedIP: string | undefined;

  get identity(): BrokerIdentity {
    return {
      clusterName: this.config.brokerClusterName,
      brokerName: this.config.brokerName,
      brokerId: this.replication.registrationId,
      brokerAddr: this.brokerAddr,
      haServerAddr: this.haAddr,
      heartbeatTimeoutMillis: this.config.channelExpiredTimeout,
    };
  }

  /** Registers the whole topic table with every name server now. */
  registerBrokerAll(): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    return this.outerApi.registerBrokerAll(this.identity, this.topicConfigManager.encode(), this.config.compressedRegister);
  }

  /** Topics changed since the last registration; 'all' when the whole table must go. */
  private changedTopics: Set<string> | 'all' = new Set();

  /**
   * Topic changes reach the name servers on the next tick, not after the 30 s period, and carry
   * only the changed topics (RocketMQ's registerIncrementBrokerData): re-sending the whole table
   * per creation made creating n topics cost n² (issue 17). The periodic registration still sends
   * everything, so a name server that missed an increment catches up within one period.
   */
  private registerSoon(topics: readonly string[] | 'all'): void {
    if (topics === 'all') this.changedTopics = 'all';
    else if (this.changedTopics !== 'all') for (const t of topics) this.changedTopics.add(t);
    if (this.registerPending || this.closed || !this.brokerAddr) return;
    this.registerPending = true;
    setImmediate(() => {
      this.registerPending = false;
      const changed = this.changedTopics;
      this.changedTopics = new Set();
      const done =
        changed === 'all' || changed.size > this.topicConfigManager.size / 2
          ? this.registerBrokerAll()
          : this.closed
            ? Promise.resolve(0)
            : this.outerApi.registerBrokerAll(this.identity, this.topicConfigManager.encodeSome(changed));
      done.catch((err: unknown) => this.logger.warn({ err }, 'register after topic change failed'));
    });
  }

  get popService(): PopService {
    return this.services.pops;
  }

  /** The parts processors and services see: never the controller itself. */
  private parts(): BrokerParts {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- brokerAddr is known only after listen
    const self = this;
    return {
      config: this.config,
      store: this.store,
      topicConfigManager: this.topicConfigManager,
      subscriptionGroupManager: this.subscriptionGroupManager,
      consumerOffsetManager: this.consumerOffsetManager,
      consumerManager: this.consumerManager,
      producerManager: this.producerManager,
      lockManager: this.lockManager,
      scheduleMessageService: this.scheduleMessageService,
      timerService: this.timerService,
      stats: this.stats,
      get brokerAddr() {
        return self.brokerAddr;
      },
    };
  }

  /** Oneway NOTIFY_CONSUMER_IDS_CHANGED so the group's clients rebalance now. */
  private notifyConsumerIdsChanged(group: string, channels: RemotingChannel[]): void {
    const sg = this.subscriptionGroupManager.get(group);
    if (sg && !sg.notifyConsumerIdsChangedEnable) return;
    for (const ch of channels) {
      if (!ch.closed) ch.oneway(createRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, encodeHeader(CONSUMER_GROUP_HEADER, { consumerGroup: group })));
    }
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.pullRequestHoldService.shutdown();
    this.transactionCheckService.stop();
    this.services.pops.stop();
    await this.replication.stop();
    await this.outerApi.unregisterBrokerAll(this.identity).catch(() => undefined);
    await this.remotingServer.close();
    await this.scheduleMessageService.shutdown();
    await this.timerService?.shutdown();
    await this.trace?.close();
    await Promise.all([this.topicConfigManager.flush(), this.subscriptionGroupManager.flush(), this.consumerOffsetManager.flush()]);
    await this.store.shutdown();
    await this.outerClient.close();
  }
}
