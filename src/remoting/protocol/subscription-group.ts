// SubscriptionGroupConfig: a consumer group's settings, as the broker keeps them and as
// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP / GET_ALL_SUBSCRIPTIONGROUP_CONFIG carry them (JSON).

export interface SubscriptionGroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeFromMinEnable: boolean;
  consumeBroadcastEnable: boolean;
  consumeMessageOrderly: boolean;
  retryQueueNums: number;
  /** Retries before the dead-letter queue (1-16 for users; RocketMQ default 16). */
  retryMaxTimes: number;
  brokerId: number;
  whichBrokerWhenConsumeSlowly: number;
  notifyConsumerIdsChangedEnable: boolean;
  groupSysFlag?: number;
  consumeTimeoutMinute?: number;
  /** 5.x retry policy for pop consumers: the delay-level ladder or exponential backoff. */
  groupRetryPolicy?: { type: 'CUSTOMIZED' | 'EXPONENTIAL'; exponentialRetryPolicy?: { initial: number; max: number; multiplier: number } };
  attributes?: Record<string, string>;
}

/** An update names the group; fields left out keep their value (or the default for a new group). */
export type SubscriptionGroupUpdate = Partial<SubscriptionGroupConfig> & { groupName: string };

/** GET_ALL_SUBSCRIPTIONGROUP_CONFIG body. */
export interface SubscriptionGroupWrapper {
  subscriptionGroupTable: Record<string, SubscriptionGroupConfig>;
  dataVersion?: unknown;
}

export function newSubscriptionGroupConfig(groupName: string): SubscriptionGroupConfig {
  return {
    groupName,
    consumeEnable: true,
    consumeFromMinEnable: true,
    consumeBroadcastEnable: true,
    consumeMessageOrderly: false,
    retryQueueNums: 1,
    retryMaxTimes: 16,
    brokerId: 0,
    whichBrokerWhenConsumeSlowly: 1,
    notifyConsumerIdsChangedEnable: true,
  };
}
