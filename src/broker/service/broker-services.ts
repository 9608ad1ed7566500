// The broker's use cases, composed once from its parts. Remoting processors and the gRPC local
// backend take what they need from here, so a rule written in a service holds for both protocols.
import type { HostPort } from '../../common/message-host.js';
import type { BrokerParts } from '../broker-parts.js';
import type { MessageRouter } from '../message-router.js';
import type { PopService } from '../pop/pop-service.js';
import type { TimerMessageService } from '../timer/timer-message-service.js';
import type { TransactionalMessageService } from '../transaction/transactional-message-service.js';
import type { BrokerHooks } from './broker-hooks.js';
import { EndTransactionService } from './end-transaction-service.js';
import { OffsetService } from './offset-service.js';
import { PopConsumeService } from './pop-consume-service.js';
import { PullService } from './pull-service.js';
import { RecallService } from './recall-service.js';
import { RetryService } from './retry-service.js';
import { SendService, type SendReplicationGate } from './send-service.js';

export interface BrokerServices {
  readonly hooks: BrokerHooks;
  readonly sends: SendService;
  readonly pulls: PullService;
  readonly retries: RetryService;
  readonly pops: PopService;
  readonly popConsume: PopConsumeService;
  readonly offsets: OffsetService;
  readonly endTransactions: EndTransactionService;
  readonly recalls: RecallService;
}

export interface ServiceWiring {
  parts: BrokerParts;
  hooks: BrokerHooks;
  router: MessageRouter;
  transactions: TransactionalMessageService;
  timers: TimerMessageService | undefined;
  storeHost(): HostPort;
  brokerIP(): string;
  replication?: SendReplicationGate;
  /** The pop service needs the retry service, so it is made here from this factory. */
  createPopService(retries: RetryService): PopService;
}

export function createBrokerServices(w: ServiceWiring): BrokerServices {
  const p = w.parts;
  const common = {
    config: p.config,
    topics: p.topicConfigManager,
    groups: p.subscriptionGroupManager,
    store: p.store,
    stats: p.stats,
    hooks: w.hooks,
    brokerIP: w.brokerIP,
  };
  const retries = new RetryService({ ...common, router: w.router, storeHost: w.storeHost, replication: w.replication });
  const pops = w.createPopService(retries);
  return {
    hooks: w.hooks,
    sends: new SendService({
      ...common,
      router: w.router,
      storeHost: w.storeHost,
      hasOrderlyLock: (group) => p.lockManager.hasLiveLock(group),
      replication: w.replication,
    }),
    pulls: new PullService(common),
    retries,
    pops,
    popConsume: new PopConsumeService({ ...common, pops }),
    offsets: new OffsetService({ offsets: p.consumerOffsetManager, groups: p.subscriptionGroupManager, topics: p.topicConfigManager, store: p.store, hooks: w.hooks }),
    endTransactions: new EndTransactionService(p.config, w.transactions, w.hooks),
    recalls: new RecallService(p.config.brokerName, w.timers, w.hooks),
  };
}
