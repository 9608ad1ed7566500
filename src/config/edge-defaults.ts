// Edge limits of the gRPC endpoint and request timeouts (issue 15, docs/SECURITY.md). The gRPC keys
// are shared by the broker (its in-process endpoint) and `apogee proxy`; the RocketMQ proxy's names
// are used where it has one (grpcMaxInboundMessageSize, grpcClientIdleTimeMills).
import type { ConfigSchema } from './schema.js';

export const GRPC_EDGE_KEYS = {
  grpcMaxInboundMessageSize: {
    type: 'int',
    default: 16777216,
    min: 1024,
    doc: 'bytes of one gRPC request message; a larger one is refused with RESOURCE_EXHAUSTED before it is buffered',
  },
  grpcMaxConnectionsPerAddress: { type: 'int', default: 1024, min: 1, doc: 'open gRPC connections one client address may hold; more are closed at once and logged' },
  grpcMaxConcurrentStreams: {
    type: 'int',
    default: 1024,
    min: 1,
    doc: 'calls one gRPC connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS); clients queue the rest',
  },
  grpcMaxPendingWriteBytes: {
    type: 'long',
    default: 67108864,
    min: 65536,
    doc: 'bytes of gRPC responses a connection may leave unread; past this the client is cut off (a client that never reads cannot grow the server)',
  },
  grpcClientIdleTimeMills: { type: 'long', default: 120000, min: 0, doc: 'ms a gRPC connection with no call open is kept; 0 = for ever' },
  grpcKeepaliveTimeMills: { type: 'long', default: 60000, min: 0, doc: 'ms between the server\'s HTTP/2 pings on a gRPC connection; 0 = no pings' },
  grpcKeepaliveTimeoutMills: { type: 'long', default: 20000, min: 1, doc: 'ms a ping may go unanswered before the connection is closed as dead' },
} as const satisfies ConfigSchema;

export const REQUEST_TIMEOUT_KEYS = {
  serverRequestTimeoutMillis: {
    type: 'long',
    default: 30000,
    min: 0,
    doc: 'ms a remoting request or unary gRPC call may be processed before it is answered SYSTEM_BUSY (PROXY_TIMEOUT on gRPC); long polls are exempt; 0 = no limit',
  },
} as const satisfies ConfigSchema;
