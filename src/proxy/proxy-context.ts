// What every gRPC activity needs: the backend in front of the brokers (in-process or over
// remoting), the client registry, and the cache of transaction handles (EndTransaction names a
// message by id only, the broker needs offsets).
import type { Logger } from '../common/logger.js';
import type { ProxyBackend } from './backend/proxy-backend.js';
import type { ClientManager } from './client-manager.js';
import type { RequestTimeouts } from './grpc-edge.js';

export interface TransactionHandle {
  topic: string;
  producerGroup: string;
  tranStateTableOffset: number;
  commitLogOffset: number;
  /** The broker group holding the half message (cluster mode: a topic may live on several). */
  brokerName?: string;
  expires: number;
}

export interface ProxyContext {
  backend: ProxyBackend;
  clients: ClientManager;
  logger: Logger;
  /** transaction id (= message id) → where the half message is. */
  transactions: Map<string, TransactionHandle>;
  /** Minimum invisible time a receive may ask for (RocketMQ: 10 s). */
  minInvisibleTimeMsForReceive: number;
  /** Longest receive long poll, also announced to push consumers (RocketMQ: 20 s); a push consumer's shutdown waits this long. */
  maxLongPollingTimeoutMs: number;
  /** The unary time limit (serverRequestTimeoutMillis), applied by the unary handler wrapper; absent = none. */
  timeouts?: RequestTimeouts;
}

export const TRANSACTION_HANDLE_TTL_MS = 3 * 3600_000;
