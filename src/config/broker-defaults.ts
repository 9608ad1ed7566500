import { INNER_CLIENT_KEYS } from './acl-defaults.js';
import { checkAddrList, checkDelayLevels, checkHours, checkNonEmpty } from './checks.js';
import { GRPC_EDGE_KEYS, REQUEST_TIMEOUT_KEYS } from './edge-defaults.js';
import type { ConfigOf, ConfigSchema } from './schema.js';
import { TLS_CLIENT_KEYS, TLS_SERVER_KEYS } from './tls-defaults.js';

/** `host:port` endpoints separated by `,` (or `;` as RocketMQ's controllerAddr); `http://` may prefix each. */
function checkEtcdEndpoints(value: string): string | undefined {
  const parts = value.split(/[,;]/).map((p) => p.trim().replace(/^http:\/\//, '')).filter((p) => p !== '');
  const ok = parts.length > 0 && parts.every((p) => /^[^\s:;,/]+:\d{1,5}$/.test(p) && Number(p.slice(p.lastIndexOf(':') + 1)) <= 65535);
  return ok ? undefined : 'host:port[,host:port...]';
}

const PORT = { type: 'int', min: 0, max: 65535 } as const;

/**
 * Broker keys. RocketMQ reads BrokerConfig, MessageStoreConfig and NettyServerConfig from one
 * broker.conf, so they share this one flat table with RocketMQ's key names.
 */
export const BROKER_DEFAULTS = {
  // identity and network
  brokerClusterName: { type: 'string', default: 'DefaultCluster', check: checkNonEmpty, doc: 'cluster this group belongs to' },
  brokerName: { type: 'string', default: 'broker-a', check: checkNonEmpty, doc: 'group name shared by a master and its slaves' },
  brokerId: { type: 'long', default: 0, min: 0, doc: '0 = master, >0 = slave' },
  brokerIP1: {
    type: 'string',
    default: '',
    doc: 'address advertised to clients; empty = first non-internal IPv4, else 127.0.0.1 (see pickBrokerIP1)',
  },
  listenPort: { ...PORT, default: 10911, doc: 'remoting port; 0 picks a free port' },
  host: { type: 'string', default: '0.0.0.0', check: checkNonEmpty, doc: 'bind address' },
  namesrvAddr: { type: 'string', default: '', check: checkAddrList, doc: 'name servers, "host:port;host:port"; empty = none' },
  registerNameServerPeriod: {
    type: 'int',
    default: 30000,
    min: 1000,
    max: 60000,
    doc: 'ms between registrations with the name servers; must stay well under their expiry time',
  },
  compressedRegister: {
    type: 'bool',
    default: true,
    doc: "full registrations with the name servers use Java's compressed form (read by Apogee's and RocketMQ 4.9+ name servers); false sends plain JSON",
  },
  channelExpiredTimeout: { type: 'long', default: 120000, min: 1, doc: 'ms of client silence before its channel is dropped' },
  grpcServerPort: { ...PORT, default: 8081, doc: 'gRPC v2 (5.x clients) port when the proxy runs in-process' },
  httpPort: { ...PORT, default: 8080, doc: 'console / metrics HTTP port' },
  metricsEnable: {
    type: 'bool',
    default: true,
    doc: 'count and serve Prometheus metrics on GET /metrics of httpPort; false leaves the send path without metrics hooks',
  },

  // store
  storePathRootDir: { type: 'string', default: './data/store', check: checkNonEmpty, doc: 'root of commit log, queues, index' },
  flushDiskType: {
    type: 'enum',
    values: ['ASYNC_FLUSH', 'SYNC_FLUSH'],
    default: 'ASYNC_FLUSH',
    doc: 'SYNC_FLUSH acks after fsync (no loss on crash, slower); ASYNC_FLUSH acks after page cache',
  },
  brokerRole: {
    type: 'enum',
    values: ['ASYNC_MASTER', 'SYNC_MASTER', 'SLAVE'],
    default: 'ASYNC_MASTER',
    doc: 'SYNC_MASTER acks after a slave has the write; ASYNC_MASTER does not wait',
  },
  // replication (master/slave)
  haListenPort: { ...PORT, default: -1, min: -1, doc: 'replication port of a master; -1 = listenPort + 1 (0 when listenPort is 0), 0 picks a free port' },
  inSyncReplicas: {
    type: 'int',
    default: 2,
    min: 1,
    doc: 'members (master included) that must hold a record before SYNC_MASTER acknowledges it; every in-sync slave is waited for as well',
  },
  minInSyncReplicas: { type: 'int', default: 1, min: 1, doc: 'below this many in-sync members (master included) sends are refused' },
  haMaxTimeSlaveNotCatchup: { type: 'long', default: 15000, min: 100, doc: 'ms a slave may stay behind before it leaves the in-sync set' },
  haSlaveSyncMetadataIntervalMs: { type: 'long', default: 3000, min: 100, doc: 'ms between a slave\'s copies of the master\'s topics, groups and offsets' },
  slaveReadEnable: { type: 'bool', default: false, doc: 'a pull far behind the log end (see accessMessageInMemoryMaxRatio) is told to pull from a slave next (suggestWhichBrokerId)' },
  accessMessageInMemoryMaxRatio: { type: 'int', default: 40, min: 0, max: 100, doc: 'percent of RAM: a pull further behind the log end than this is "slow" and, with slaveReadEnable, sent to a slave' },
  accessMessageInMemoryMaxBytes: { type: 'long', default: 0, min: 0, doc: 'bytes behind the log end that make a pull "slow"; 0 = accessMessageInMemoryMaxRatio of RAM (Apogee key, for tests and small machines)' },
  // automatic failover (controller mode): etcd keeps each group's master, epoch and in-sync set
  enableControllerMode: { type: 'bool', default: false, doc: 'roles come from elections in etcd (etcdEndpoints) instead of brokerId/brokerRole; brokerId names the member' },
  etcdEndpoints: { type: 'string', default: '127.0.0.1:2379', check: checkEtcdEndpoints, doc: 'etcd client endpoints "host:port[,host:port...]" used in controller mode' },
  controllerLeaseTtlSec: {
    type: 'int',
    default: 3,
    min: 2,
    max: 60,
    doc: 'seconds a master stays master without reaching etcd; failover takes about this plus the settle time',
  },
  controllerElectionSettleMs: { type: 'int', default: 500, min: 0, max: 10000, doc: 'ms candidates wait for each other\'s offsets before the best one campaigns' },
  mappedFileSizeCommitLog: { type: 'long', default: 1073741824, min: 4096, doc: 'bytes per commit-log segment' },
  mappedFileSizeConsumeQueue: { type: 'long', default: 6000000, min: 20, doc: 'bytes per consume-queue segment (20 per entry)' },
  flushIntervalCommitLog: { type: 'int', default: 500, min: 1, doc: 'ms between fsyncs under ASYNC_FLUSH' },
  syncFlushTimeout: { type: 'long', default: 5000, min: 1, doc: 'ms a SYNC_FLUSH send waits before FLUSH_DISK_TIMEOUT' },
  fileReservedTime: { type: 'int', default: 72, min: 0, doc: 'hours commit-log segments are kept' },
  deleteWhen: { type: 'string', default: '04', check: checkHours, doc: 'hours of day when expired segments are deleted' },
  diskMaxUsedSpaceRatio: {
    type: 'int',
    default: 75,
    min: 10,
    max: 95,
    doc: 'percent disk use above which old segments are deleted early',
  },
  diskSpaceWarningLevelRatio: {
    type: 'int',
    default: 90,
    min: 10,
    max: 99,
    doc: 'percent disk use above which writes are refused',
  },
  maxMessageSize: { type: 'int', default: 4194304, min: 1, doc: 'bytes; larger messages are rejected' },

  // topics, groups, permissions
  autoCreateTopicEnable: { type: 'bool', default: true, doc: 'create unknown topics on first send (convenient, not for prod)' },
  autoCreateSubscriptionGroup: { type: 'bool', default: true, doc: 'create unknown consumer groups on first use' },
  defaultTopicQueueNums: { type: 'int', default: 8, min: 1, max: 1024, doc: 'queues of an auto-created topic' },
  brokerPermission: { type: 'int', default: 6, min: 0, max: 15, doc: 'perm bits: 4 read, 2 write, 1 inherit' },

  // delay, timer, transactions
  messageDelayLevel: {
    type: 'string',
    default: '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h',
    check: checkDelayLevels,
    doc: 'delay of each level 1..n, space-separated',
  },
  timerWheelEnable: { type: 'bool', default: true, doc: 'accept arbitrary-time (5.x timer) messages' },
  timerMaxDelaySec: { type: 'long', default: 31536000, min: 1, doc: 'longest timer delay in seconds (365 d)' },
  timerPrecisionMs: { type: 'int', default: 1000, min: 10, doc: 'timer slot width in ms; finer costs more slots' },
  transactionTimeOut: { type: 'long', default: 6000, min: 1, doc: 'ms before an open half message is first checked' },
  transactionCheckInterval: { type: 'long', default: 30000, min: 10, doc: 'ms between transaction check rounds' },
  transactionCheckMax: { type: 'int', default: 15, min: 1, doc: 'checks before a half message is discarded' },

  // consumption
  enablePropertyFilter: { type: 'bool', default: true, doc: 'allow SQL92 property filters' },
  longPollingEnable: { type: 'bool', default: true, doc: 'hold empty pulls until a message arrives' },
  shortPollingTimeMills: { type: 'long', default: 1000, min: 0, doc: 'ms an empty pull is held when long polling is off' },

  // lite topics (docs/LITE.md): broker defaults; a LITE parent overrides the first three with attributes of the same names
  maxLiteTopicNum: { type: 'long', default: 2000000, min: 1, doc: 'lite topics one LITE parent may hold (+maxLiteTopicNum); a send creating one more gets LITE_TOPIC_QUOTA_EXCEEDED' },
  liteTopicExpiration: { type: 'long', default: 86400, min: 1, doc: 'seconds a lite topic may receive nothing before it is deleted with its progress (+liteTopicExpiration)' },
  maxLiteSubscriptionCount: {
    type: 'long',
    default: 100000,
    min: 1,
    doc: "lite topics of one parent one consumer group may subscribe to (+liteSubscriptionQuota); RocketMQ's name; more get LITE_SUBSCRIPTION_QUOTA_EXCEEDED",
  },
  liteTtlCheckInterval: { type: 'long', default: 1000, min: 10, doc: 'ms between expiry sweeps (each costs O(lite topics expired))' },
  liteStateFlushInterval: { type: 'long', default: 1000, min: 10, doc: 'ms between appends of lite state changes to config/liteState.log (progress newer than the last is redelivered after a crash)' },

  // alarms (docs/ALARMS.md)
  alarmRulesFile: { type: 'string', default: '', doc: 'YAML alarm rules and webhooks, reloaded when it changes; empty = the built-in default rules' },
  alarmEvaluateIntervalMs: { type: 'long', default: 5000, min: 0, doc: 'ms between alarm evaluations; 0 turns alarms off' },

  // message trace (docs/TRACE.md)
  traceTopicEnable: { type: 'bool', default: true, doc: 'create msgTraceTopicName so clients with message trace on have somewhere to write' },
  msgTraceTopicName: { type: 'string', default: 'RMQ_SYS_TRACE_TOPIC', doc: 'topic of client and broker trace records' },
  traceOn: { type: 'bool', default: true, doc: 'TRACE_ON answered to producers and stamped on messages; false tells 4.x clients to skip their trace' },
  regionId: { type: 'string', default: 'DefaultRegion', doc: 'MSG_REGION answered to producers and stamped on messages (4.x consumer trace needs it)' },
  traceBrokerEnable: { type: 'bool', default: true, doc: 'the broker records stored, delivered, consumed, retried and dead-lettered events into the trace topic' },
  traceFlushIntervalMs: { type: 'int', default: 200, min: 10, max: 60000, doc: 'ms between broker trace batch writes; longer = fewer, larger trace messages' },

  // access control (docs/SECURITY.md): ACL 1.0 accounts of plain_acl.yml on both protocols
  aclEnable: { type: 'bool', default: false, doc: "RocketMQ's ACL switch: every remoting and gRPC request is signed and checked against aclConfigFile" },
  enableAcl: { type: 'bool', default: false, doc: 'same as aclEnable (an older spelling)' },
  aclConfigFile: {
    type: 'string',
    default: '',
    doc: 'plain_acl.yml (RocketMQ ACL 1.0 format), reloaded when it changes; empty = plain_acl.yml beside the -c file, else in the working directory',
  },
  // edge limits of the remoting port (docs/SECURITY.md)
  serverMaxFrameLength: { type: 'int', default: 16777216, min: 1024, doc: 'bytes of one remoting frame; a larger one closes the connection (RocketMQ frameMaxLength)' },
  serverMaxInflightPerConnection: {
    type: 'int',
    default: 1024,
    min: 1,
    doc: 'requests one connection may have in progress (answers being read or stored); more get SYSTEM_BUSY at once; with serverMaxPendingWriteBytes it bounds what one client can pin',
  },
  serverMaxConnectionsPerAddress: { type: 'int', default: 1024, min: 1, doc: 'open connections one client address may hold; more are closed at once and logged' },
  serverMaxPendingWriteBytes: {
    type: 'long',
    default: 67108864,
    min: 65536,
    doc: 'bytes of responses a connection may leave unread; past this the client is cut off (a client that never reads cannot grow the broker)',
  },
  // TLS on the remoting port and the gRPC endpoint (docs/SECURITY.md); the PEM files are re-read when they change
  ...TLS_SERVER_KEYS,
  ...TLS_CLIENT_KEYS,
  // edge limits of the gRPC endpoint and request timeouts (docs/SECURITY.md)
  ...GRPC_EDGE_KEYS,
  ...REQUEST_TIMEOUT_KEYS,
  // the cluster account this broker signs its own requests with (docs/SECURITY.md)
  ...INNER_CLIENT_KEYS,
} as const satisfies ConfigSchema;

export type BrokerConfig = ConfigOf<typeof BROKER_DEFAULTS>;
