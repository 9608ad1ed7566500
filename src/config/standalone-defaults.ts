import { BROKER_DEFAULTS, type BrokerConfig } from './broker-defaults.js';
import { CONSOLE_LOGIN_KEYS } from './console-defaults.js';
import { NAMESRV_DEFAULTS, type NamesrvConfig } from './namesrv-defaults.js';
import type { ConfigOf, ConfigSchema } from './schema.js';

/**
 * One process running namesrv + broker + proxy + console: the broker's keys, the name
 * server's own tuning keys, and the name server's port under its own name.
 */
export const STANDALONE_DEFAULTS = {
  ...BROKER_DEFAULTS,
  storePathRootDir: { ...BROKER_DEFAULTS.storePathRootDir, default: './data' },
  namesrvPort: { type: 'int', default: 9876, min: 0, max: 65535, doc: 'name server port; 0 picks a free port' },
  scanNotActiveBrokerInterval: NAMESRV_DEFAULTS.scanNotActiveBrokerInterval,
  brokerChannelExpiredTime: NAMESRV_DEFAULTS.brokerChannelExpiredTime,
  kvConfigPath: NAMESRV_DEFAULTS.kvConfigPath,
  orderMessageEnable: NAMESRV_DEFAULTS.orderMessageEnable,
  ...CONSOLE_LOGIN_KEYS,
} as const satisfies ConfigSchema;

export type StandaloneConfig = ConfigOf<typeof STANDALONE_DEFAULTS>;

/** The name server part of a standalone configuration. */
export function namesrvConfigOf(c: StandaloneConfig): NamesrvConfig {
  return Object.freeze({
    listenPort: c.namesrvPort,
    host: c.host,
    scanNotActiveBrokerInterval: c.scanNotActiveBrokerInterval,
    brokerChannelExpiredTime: c.brokerChannelExpiredTime,
    kvConfigPath: c.kvConfigPath,
    orderMessageEnable: c.orderMessageEnable,
    // The in-process name server stays without ACL, as before: its one broker is the one beside
    // it; a standalone's aclEnable applies to that broker and its gRPC endpoint.
    aclEnable: false,
    enableAcl: false,
    aclConfigFile: '',
    // With TLS on, the in-process name server takes TLS and plain (permissive) whatever the broker's
    // mode: the broker and console beside it reach it in plain TCP over loopback, TLS clients
    // (apogee admin --tls) over TLS.
    tlsServerMode: c.tlsServerMode === 'disabled' ? 'disabled' : 'permissive',
    tlsServerCertPath: c.tlsServerCertPath,
    tlsServerKeyPath: c.tlsServerKeyPath,
    tlsServerTrustCertPath: c.tlsServerTrustCertPath,
    tlsServerNeedClientAuth: c.tlsServerNeedClientAuth,
  });
}

/** The broker part of a standalone configuration, pointed at the given name server. */
export function brokerConfigOf(c: StandaloneConfig, namesrvAddr: string): BrokerConfig {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(BROKER_DEFAULTS)) out[key] = c[key as keyof StandaloneConfig];
  out.namesrvAddr = namesrvAddr;
  return Object.freeze(out) as unknown as BrokerConfig;
}
