// The broker's dispatch table: every remoting request code it answers and the handler that
// answers it, one hop from here. Processors get the services and parts they need; none sees the
// controller.
import { RequestCode, type RemotingServer, type RequestProcessor } from '../../remoting/index.js';
import type { BrokerParts } from '../broker-parts.js';
import type { Replication } from '../ha/replication.js';
import type { BrokerServices } from '../service/broker-services.js';
import { GET_ALARM_LIST } from '../../observability/alarms/alarm-status.js';
import { AdminBrokerProcessor } from './admin-broker-processor.js';
import { AdminMessageProcessor } from './admin-message-processor.js';
import { AdminStatsProcessor } from './admin-stats-processor.js';
import { AlarmProcessor } from './alarm-processor.js';
import { ClientManageProcessor } from './client-manage-processor.js';
import { ConsumeDirectlyProcessor } from './consume-directly-processor.js';
import { ConsumerManageProcessor } from './consumer-manage-processor.js';
import { DlqResendProcessor, GET_DLQ_RESEND_LOG, RESEND_DLQ_MESSAGES } from './dlq-resend-processor.js';
import { EndTransactionProcessor } from './end-transaction-processor.js';
import { HaStatusProcessor } from './ha-status-processor.js';
import { LockProcessor } from './lock-processor.js';
import { OffsetResetProcessor } from './offset-reset-processor.js';
import { PopMessageProcessor } from './pop-message-processor.js';
import { PullMessageProcessor, type PullProcessorDeps } from './pull-message-processor.js';
import { RecallMessageProcessor } from './recall-message-processor.js';
import { SendBackProcessor } from './send-back-processor.js';
import { SendMessageProcessor } from './send-message-processor.js';
import { TimerCheckpointProcessor } from '../timer/timer-checkpoint-processor.js';
import { GET_LITE_TOPIC_LIST, liteAdminProcessor } from '../lite/lite-admin-processor.js';

export type DispatchTable = ReadonlyArray<readonly [code: number, handler: RequestProcessor]>;

export interface BrokerProcessors {
  table: DispatchTable;
  /** Long polling re-runs held pulls through it. */
  pull: PullMessageProcessor;
  pop: PopMessageProcessor;
}

export function createProcessors(parts: BrokerParts, s: BrokerServices, hold: PullProcessorDeps['hold'], replication: Replication): BrokerProcessors {
  const send = new SendMessageProcessor(s.sends);
  const sendBack = new SendBackProcessor(s.retries);
  const pull = new PullMessageProcessor({ pulls: s.pulls, offsets: s.offsets, consumers: parts.consumerManager, config: parts.config, hold, suggestBrokerId: (g, slow) => replication.suggestPullFrom(g, slow) });
  const pop = new PopMessageProcessor({ consume: s.popConsume, pops: s.pops, topics: parts.topicConfigManager, store: parts.store, offsets: parts.consumerOffsetManager });
  const clients = new ClientManageProcessor(parts);
  const consumers = new ConsumerManageProcessor(parts.consumerManager, s.offsets);
  const endTx = new EndTransactionProcessor(s.endTransactions);
  const recall = new RecallMessageProcessor(s.recalls);
  const locks = new LockProcessor(parts);
  const admin = new AdminBrokerProcessor(parts);
  const stats = new AdminStatsProcessor(parts);
  const messages = new AdminMessageProcessor(parts);
  const dlq = new DlqResendProcessor(parts);
  const ha = new HaStatusProcessor(replication, parts.store, parts.config.brokerName, parts.config.brokerId);
  const table: DispatchTable = [
    [RequestCode.SEND_MESSAGE, send.process],
    [RequestCode.SEND_MESSAGE_V2, send.process],
    [RequestCode.SEND_BATCH_MESSAGE, send.process],
    [RequestCode.CONSUMER_SEND_MSG_BACK, sendBack.process],
    [RequestCode.PULL_MESSAGE, pull.process],
    [RequestCode.POP_MESSAGE, pop.popMessage],
    [RequestCode.ACK_MESSAGE, pop.ackMessage],
    [RequestCode.CHANGE_MESSAGE_INVISIBLETIME, pop.changeInvisibleTime],
    [RequestCode.END_TRANSACTION, endTx.process],
    [RequestCode.RECALL_MESSAGE, recall.process],
    [RequestCode.HEART_BEAT, clients.heartbeat],
    [RequestCode.UNREGISTER_CLIENT, clients.unregisterClient],
    [RequestCode.CHECK_CLIENT_CONFIG, clients.checkClientConfig],
    [RequestCode.GET_CONSUMER_LIST_BY_GROUP, consumers.getConsumerListByGroup],
    [RequestCode.UPDATE_CONSUMER_OFFSET, consumers.updateConsumerOffset],
    [RequestCode.QUERY_CONSUMER_OFFSET, consumers.queryConsumerOffset],
    [RequestCode.GET_MAX_OFFSET, consumers.getMaxOffset],
    [RequestCode.GET_MIN_OFFSET, consumers.getMinOffset],
    [RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, consumers.searchOffsetByTimestamp],
    [RequestCode.GET_EARLIEST_MSG_STORETIME, consumers.getEarliestMsgStoretime],
    [RequestCode.LOCK_BATCH_MQ, locks.lockBatch],
    [RequestCode.UNLOCK_BATCH_MQ, locks.unlockBatch],
    [RequestCode.UPDATE_AND_CREATE_TOPIC, admin.updateAndCreateTopic],
    [RequestCode.DELETE_TOPIC_IN_BROKER, admin.deleteTopic],
    [RequestCode.GET_ALL_TOPIC_CONFIG, admin.getAllTopicConfig],
    [RequestCode.GET_TOPIC_CONFIG, admin.getTopicConfig],
    [RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, admin.updateAndCreateSubscriptionGroup],
    [RequestCode.DELETE_SUBSCRIPTIONGROUP, admin.deleteSubscriptionGroup],
    [RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, admin.getAllSubscriptionGroup],
    [RequestCode.GET_BROKER_CONFIG, admin.getBrokerConfig],
    [RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_BROKER, admin.getSystemTopicList],
    [RequestCode.GET_TOPIC_STATS_INFO, stats.getTopicStatsInfo],
    [RequestCode.GET_CONSUME_STATS, stats.getConsumeStats],
    [RequestCode.GET_BROKER_RUNTIME_INFO, stats.getBrokerRuntimeInfo],
    [RequestCode.GET_CONSUMER_CONNECTION_LIST, stats.getConsumerConnectionList],
    [RequestCode.GET_PRODUCER_CONNECTION_LIST, stats.getProducerConnectionList],
    [RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, stats.queryTopicConsumeByWho],
    [RequestCode.GET_ALL_CONSUMER_OFFSET, stats.getAllConsumerOffset],
    [RequestCode.GET_ALL_DELAY_OFFSET, stats.getAllDelayOffset],
    [RequestCode.QUERY_MESSAGE, messages.queryMessage],
    [RequestCode.VIEW_MESSAGE_BY_ID, messages.viewMessageById],
    [GET_ALARM_LIST, new AlarmProcessor(parts).process],
    [RequestCode.GET_BROKER_HA_STATUS, ha.process],
    [RESEND_DLQ_MESSAGES, dlq.resend],
    [GET_DLQ_RESEND_LOG, dlq.resendLog],
    [RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, new OffsetResetProcessor(parts).resetOffset],
    [RequestCode.CONSUME_MESSAGE_DIRECTLY, new ConsumeDirectlyProcessor(parts).process],
    [RequestCode.GET_TIMER_CHECK_POINT, new TimerCheckpointProcessor(parts).process],
    [GET_LITE_TOPIC_LIST, liteAdminProcessor(parts, s).list],
  ];
  return { table, pull, pop };
}

/** Registers the table on the server; a code listed twice is a programming error. */
export function registerProcessors(server: RemotingServer, p: BrokerProcessors): void {
  const seen = new Set<number>();
  for (const [code, handler] of p.table) {
    if (seen.has(code)) throw new Error(`request code ${code} is listed twice in the broker's dispatch table`);
    seen.add(code);
    server.registerProcessor(code, handler);
  }
  server.onChannelClose(p.pop.onChannelClose);
}
