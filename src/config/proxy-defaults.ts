import { ACL_SERVER_KEYS, INNER_CLIENT_KEYS } from './acl-defaults.js';
import { checkAddrList, checkNonEmpty } from './checks.js';
import { GRPC_EDGE_KEYS, REQUEST_TIMEOUT_KEYS } from './edge-defaults.js';
import type { ConfigOf, ConfigSchema } from './schema.js';
import { TLS_CLIENT_KEYS, TLS_SERVER_KEYS } from './tls-defaults.js';

/** Proxy (gRPC v2 endpoint for 5.x clients) keys. */
export const PROXY_DEFAULTS = {
  grpcServerPort: { type: 'int', default: 8081, min: 0, max: 65535, doc: 'gRPC port; 0 picks a free port' },
  namesrvAddr: { type: 'string', default: '', check: checkAddrList, doc: 'name servers, "host:port;host:port"' },
  proxyMode: {
    type: 'enum',
    values: ['cluster', 'local'],
    default: 'cluster',
    doc: 'local = inside the broker process; cluster = separate process in front of brokers',
  },
  host: { type: 'string', default: '0.0.0.0', check: checkNonEmpty, doc: 'bind address' },
  httpPort: { type: 'int', default: 8080, min: 0, max: 65535, doc: 'metrics HTTP port (GET /metrics); 0 picks a free port' },
  metricsEnable: { type: 'bool', default: true, doc: 'count and serve Prometheus metrics on GET /metrics of httpPort' },
  // ACL on the gRPC endpoint, and the cluster account the proxy signs with (docs/SECURITY.md)
  ...ACL_SERVER_KEYS,
  ...INNER_CLIENT_KEYS,
  // edge limits, request timeout, TLS of the gRPC port and TLS to name servers and brokers (docs/SECURITY.md)
  ...GRPC_EDGE_KEYS,
  ...REQUEST_TIMEOUT_KEYS,
  ...TLS_SERVER_KEYS,
  ...TLS_CLIENT_KEYS,
} as const satisfies ConfigSchema;

export type ProxyConfig = ConfigOf<typeof PROXY_DEFAULTS>;
