// Requests to the name server: broker registration and liveness, routes, topics, KV config.
import type { HeaderSchema, HeaderValues } from './header-codec.js';

/** The body is a RegisterBrokerBody (register-broker.ts); bodyCrc32 = crc32 & 0x7fffffff of it, 0 = not computed. */
export const REGISTER_BROKER_HEADER = {
  brokerName: { type: 'string', required: true },
  brokerAddr: { type: 'string', required: true },
  clusterName: { type: 'string', required: true },
  haServerAddr: { type: 'string' },
  brokerId: { type: 'long', required: true },
  heartbeatTimeoutMillis: { type: 'long' },
  enableActingMaster: { type: 'bool' },
  compressed: { type: 'bool' },
  bodyCrc32: { type: 'long' },
  zoneName: { type: 'string' },
} as const satisfies HeaderSchema;

export type RegisterBrokerRequestHeader = HeaderValues<typeof REGISTER_BROKER_HEADER>;

/** The body of the answer is the ORDER_TOPIC_CONFIG KV table. */
export const REGISTER_BROKER_RESPONSE_HEADER = {
  haServerAddr: { type: 'string' },
  masterAddr: { type: 'string' },
} as const satisfies HeaderSchema;

export const UNREGISTER_BROKER_HEADER = {
  brokerName: { type: 'string', required: true },
  brokerAddr: { type: 'string', required: true },
  clusterName: { type: 'string', required: true },
  brokerId: { type: 'long', required: true },
} as const satisfies HeaderSchema;

/** BROKER_HEARTBEAT and QUERY_DATA_VERSION (whose body is the broker's DataVersion JSON). */
export const BROKER_ADDR_HEADER = {
  brokerAddr: { type: 'string', required: true },
  clusterName: { type: 'string', required: true },
} as const satisfies HeaderSchema;

/** changed: whether the name server holds another data version for the broker than the one sent. */
export const QUERY_DATA_VERSION_RESPONSE_HEADER = { changed: { type: 'bool', required: true } } as const satisfies HeaderSchema;

/** GET_ROUTEINFO_BY_TOPIC and REGISTER_TOPIC_IN_NAMESRV (whose body is `{queueDatas: [...]}`). */
export const TOPIC_ROUTE_HEADER = { topic: { type: 'string', required: true } } as const satisfies HeaderSchema;

/** Without a cluster name, the topic leaves every cluster. */
export const DELETE_TOPIC_IN_NAMESRV_HEADER = {
  topic: { type: 'string', required: true },
  clusterName: { type: 'string' },
} as const satisfies HeaderSchema;

export const GET_TOPICS_BY_CLUSTER_HEADER = { cluster: { type: 'string', required: true } } as const satisfies HeaderSchema;

export const KV_KEY_HEADER = {
  namespace: { type: 'string', required: true },
  key: { type: 'string', required: true },
} as const satisfies HeaderSchema;

export const PUT_KV_CONFIG_HEADER = { ...KV_KEY_HEADER, value: { type: 'string', required: true } } as const satisfies HeaderSchema;

export const GET_KV_CONFIG_RESPONSE_HEADER = { value: { type: 'string', required: true } } as const satisfies HeaderSchema;

export const KV_NAMESPACE_HEADER = { namespace: { type: 'string', required: true } } as const satisfies HeaderSchema;

/** KV namespace whose entries become a topic route's `orderTopicConf` ("brokerName:queueNum;…"). */
export const NAMESPACE_ORDER_TOPIC_CONFIG = 'ORDER_TOPIC_CONFIG';
