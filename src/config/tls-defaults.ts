// TLS keys (issue 15, docs/SECURITY.md). Server side: RocketMQ's tlsServerMode and files, for the
// broker's ports, the name server and the gRPC endpoint. Client side: tlsEnable (RocketMQ's
// tls.enable) turns TLS on for the connections a role opens itself (to name servers and brokers).
import type { ConfigSchema } from './schema.js';

export const TLS_SERVER_KEYS = {
  tlsServerMode: {
    type: 'enum',
    values: ['disabled', 'permissive', 'enforcing'],
    default: 'disabled',
    doc: 'disabled = plain only; permissive = TLS and plain on the same ports (told apart by the first byte); enforcing = TLS only',
  },
  tlsServerCertPath: { type: 'string', default: '', doc: 'PEM certificate (chain) of the server; required unless tlsServerMode=disabled' },
  tlsServerKeyPath: { type: 'string', default: '', doc: 'PEM private key of the server; required unless tlsServerMode=disabled' },
  tlsServerTrustCertPath: { type: 'string', default: '', doc: 'PEM CA certificates that client certificates must chain to (with tlsServerNeedClientAuth)' },
  tlsServerNeedClientAuth: { type: 'bool', default: false, doc: 'require a client certificate signed by tlsServerTrustCertPath' },
} as const satisfies ConfigSchema;

export const TLS_CLIENT_KEYS = {
  tlsEnable: { type: 'bool', default: false, doc: 'connect to name servers and other brokers over TLS (they run tlsServerMode permissive or enforcing)' },
  tlsClientTrustCertPath: { type: 'string', default: '', doc: 'PEM CA certificates the servers must chain to; empty = the system CAs' },
  tlsClientCertPath: { type: 'string', default: '', doc: 'PEM client certificate, for servers with tlsServerNeedClientAuth' },
  tlsClientKeyPath: { type: 'string', default: '', doc: 'PEM private key of tlsClientCertPath' },
  tlsTestModeEnable: { type: 'bool', default: false, doc: 'accept any server certificate (no verification): tests only; RocketMQ\'s default is true, ours is false' },
} as const satisfies ConfigSchema;
