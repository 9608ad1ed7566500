// The parts one broker is composed of, as the admin and client-table processors see them. A leaf
// of the broker's import graph: the controller builds one, processors take the Pick they need,
// and nothing here imports a processor or the controller (no import cycle).
import type { BrokerConfig } from '../config/index.js';
import type { MessageStore } from '../store/index.js';
import type { BrokerStats } from './broker-stats.js';
import type { ConsumerManager } from './clients/consumer-manager.js';
import type { ProducerManager } from './clients/producer-manager.js';
import type { ConsumerOffsetManager } from './consumer-offset-manager.js';
import type { RebalanceLockManager } from './rebalance-lock-manager.js';
import type { ScheduleMessageService } from './schedule/schedule-message-service.js';
import type { SubscriptionGroupManager } from './subscription-group-manager.js';
import type { TimerMessageService } from './timer/timer-message-service.js';
import type { TopicConfigManager } from './topic-config-manager.js';

export interface BrokerParts {
  readonly config: BrokerConfig;
  readonly store: MessageStore;
  readonly topicConfigManager: TopicConfigManager;
  readonly subscriptionGroupManager: SubscriptionGroupManager;
  readonly consumerOffsetManager: ConsumerOffsetManager;
  readonly consumerManager: ConsumerManager;
  readonly producerManager: ProducerManager;
  readonly lockManager: RebalanceLockManager;
  readonly scheduleMessageService: ScheduleMessageService;
  /** Absent when timerWheelEnable is false. */
  readonly timerService: TimerMessageService | undefined;
  readonly stats: BrokerStats;
  /** "ip:port" clients reach the broker at (known once it listens). */
  readonly brokerAddr: string;
}
