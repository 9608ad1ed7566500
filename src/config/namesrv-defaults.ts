import { ACL_SERVER_KEYS } from './acl-defaults.js';
import { checkNonEmpty } from './checks.js';
import type { ConfigOf, ConfigSchema } from './schema.js';
import { TLS_SERVER_KEYS } from './tls-defaults.js';

/** Name server keys (RocketMQ NamesrvConfig + NettyServerConfig names). */
export const NAMESRV_DEFAULTS = {
  listenPort: { type: 'int', default: 9876, min: 0, max: 65535, doc: 'remoting port; 0 picks a free port (tests)' },
  host: { type: 'string', default: '0.0.0.0', check: checkNonEmpty, doc: 'bind address; 127.0.0.1 keeps it local' },
  scanNotActiveBrokerInterval: {
    type: 'long',
    default: 5000,
    min: 10,
    doc: 'ms between scans for silent brokers; shorter finds dead brokers sooner at a little CPU',
  },
  brokerChannelExpiredTime: {
    type: 'long',
    default: 120000,
    min: 1,
    doc: 'ms without a registration/heartbeat before a broker is dropped (when it does not send its own timeout)',
  },
  kvConfigPath: {
    type: 'string',
    default: '',
    doc: 'file where KV config persists (written atomically); empty keeps it in memory only',
  },
  orderMessageEnable: {
    type: 'bool',
    default: false,
    doc: 'add orderTopicConf (KV namespace ORDER_TOPIC_CONFIG) to topic routes',
  },
  // ACL: registrations and other writes need an admin account, reads any valid one (docs/SECURITY.md)
  ...ACL_SERVER_KEYS,
  // TLS on the name server's port, as on a broker's (docs/SECURITY.md)
  ...TLS_SERVER_KEYS,
} as const satisfies ConfigSchema;

export type NamesrvConfig = ConfigOf<typeof NAMESRV_DEFAULTS>;
