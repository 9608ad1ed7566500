// The remoting (4.x protocol) client: producer, push and pull consumers, admin.
export { MQClientError, MQBrokerError } from './client-error.js';
export type { ClientOptions } from './client-options.js';
export type { Message, MessageExt, MessageQueue } from './message.js';
export { mqKey, compareMessageQueue } from './message.js';
export type { TopicRouteData, QueueData, BrokerData, ClusterInfo } from './topic-route.js';
export { PermName } from './topic-route.js';
export { MQClientInstance, type MessageModel, type ConsumeFromWhere } from './mq-client-instance.js';
export { MQClientAPIImpl, PullSysFlag, type LockBatchRequestBody, type EndTransactionRequestHeader, type CheckTransactionStateRequestHeader } from './mq-client-api.js';
export { Producer, type ProducerOptions, type SendOptions, type SendResult, type SendStatus, type MessageQueueSelector } from './producer.js';
export { PushConsumer, type PushConsumerOptions } from './push-consumer.js';
export type { MessageHandler, ConsumeResult } from './consume-message-concurrently-service.js';
export type { ConsumeOrderlyStatus, ConsumeOrderlyContext, MessageListenerOrderly } from './consume-message-orderly-service.js';
export {
  TransactionProducer,
  TransactionEndCode,
  type TransactionProducerOptions,
  type TransactionListener,
  type TransactionSendResult,
  type LocalTransactionState,
  type LocalTransactionExecuter,
} from './transaction-producer.js';
export { PullConsumer, type PullConsumerOptions, type PullResult, type PullStatus, type PullOptions } from './pull-consumer.js';
export { AdminClient, type CreateTopicOptions, type SubscriptionGroupConfig } from './admin-client.js';
export { allocateMessageQueueAveragely } from './allocate-message-queue.js';
export { buildSubscriptionData, type SubscriptionData, type ExpressionTypeValue } from './subscription-data.js';
