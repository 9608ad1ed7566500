// Which processor answers which request code on the broker's remoting server.
import { RequestCode, type RemotingServer } from '../../remoting/index.js';
import type { BrokerController } from '../broker-controller.js';
import { AdminBrokerProcessor } from './admin-broker-processor.js';
import { ClientManageProcessor } from './client-manage-processor.js';
import { ConsumerManageProcessor } from './consumer-manage-processor.js';
import { EndTransactionProcessor } from './end-transaction-processor.js';
import { LockProcessor } from './lock-processor.js';
import { RecallMessageProcessor } from './recall-message-processor.js';
import { PopMessageProcessor } from './pop-message-processor.js';
import { PullMessageProcessor } from './pull-message-processor.js';
import { SendMessageProcessor } from './send-message-processor.js';

/** Registers every processor; returns the pull processor (long polling wakes it). */
export function registerProcessors(b: BrokerController, server: RemotingServer): PullMessageProcessor {
  const send = new SendMessageProcessor(b);
  server.registerProcessor(RequestCode.SEND_MESSAGE, send.process);
  server.registerProcessor(RequestCode.SEND_MESSAGE_V2, send.process);
  server.registerProcessor(RequestCode.SEND_BATCH_MESSAGE, send.process);
  server.registerProcessor(RequestCode.CONSUMER_SEND_MSG_BACK, b.sendBack.process);

  const pull = new PullMessageProcessor(b);
  server.registerProcessor(RequestCode.PULL_MESSAGE, pull.process);

  const clients = new ClientManageProcessor(b);
  server.registerProcessor(RequestCode.HEART_BEAT, clients.heartbeat);
  server.registerProcessor(RequestCode.UNREGISTER_CLIENT, clients.unregisterClient);
  server.registerProcessor(RequestCode.CHECK_CLIENT_CONFIG, clients.checkClientConfig);

  const consumers = new ConsumerManageProcessor(b);
  server.registerProcessor(RequestCode.GET_CONSUMER_LIST_BY_GROUP, consumers.getConsumerListByGroup);
  server.registerProcessor(RequestCode.UPDATE_CONSUMER_OFFSET, consumers.updateConsumerOffset);
  server.registerProcessor(RequestCode.QUERY_CONSUMER_OFFSET, consumers.queryConsumerOffset);
  server.registerProcessor(RequestCode.GET_MAX_OFFSET, consumers.getMaxOffset);
  server.registerProcessor(RequestCode.GET_MIN_OFFSET, consumers.getMinOffset);
  server.registerProcessor(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, consumers.searchOffsetByTimestamp);
  server.registerProcessor(RequestCode.GET_EARLIEST_MSG_STORETIME, consumers.getEarliestMsgStoretime);

  server.registerProcessor(RequestCode.END_TRANSACTION, new EndTransactionProcessor(b).process);

  server.registerProcessor(RequestCode.RECALL_MESSAGE, new RecallMessageProcessor(b).process);
  new PopMessageProcessor(b).register(server);

  const locks = new LockProcessor(b);
  server.registerProcessor(RequestCode.LOCK_BATCH_MQ, locks.lockBatch);
  server.registerProcessor(RequestCode.UNLOCK_BATCH_MQ, locks.unlockBatch);

  new AdminBrokerProcessor(b).register(server);
  return pull;
}
