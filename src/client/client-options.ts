// Options shared by every client (producer, consumers, admin), with Java's defaults.
import { networkInterfaces } from 'node:os';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from '../common/logger.js';
import type { RemotingCommand } from '../remoting/index.js';

export interface ClientOptions {
  /** Name servers, "host:port;host:port". */
  namesrvAddr: string;
  /** Second half of the client id "ip@instanceName"; unique per client by default. */
  instanceName?: string;
  /** First half of the client id; the first non-internal IPv4 address by default. */
  clientIP?: string;
  /** Header encoding of every request: JSON (default) or ROCKETMQ binary. */
  serializeType?: 'JSON' | 'ROCKETMQ';
  logger?: Logger;
  /** Route refresh period (Java pollNameServerInterval, 30 s). */
  pollNameServerIntervalMs?: number;
  /** Heartbeat period (Java heartbeatBrokerInterval, 30 s). */
  heartbeatBrokerIntervalMs?: number;
  /** Socket timeout of ordinary requests (3 s). */
  requestTimeoutMs?: number;
  /** Runs on every outgoing request (e.g. ACL signing). */
  rpcHook?: (cmd: RemotingCommand) => void;
  /** TLS to the brokers (tlsServerMode permissive or enforcing): true, or node:tls options such as { ca }; name servers stay plain. */
  tls?: boolean | ConnectionOptions;
  /** TLS to the name servers too (name servers with tlsServerMode); absent = plain. */
  namesrvTls?: boolean | ConnectionOptions;
}

let cachedIp: string | undefined;

/** Java's RemotingUtil.getLocalAddress: a non-loopback IPv4 address if there is one. */
export function localIPv4(): string {
  if (cachedIp) return cachedIp;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal) return (cachedIp = a.address);
    }
  }
  return (cachedIp = '127.0.0.1');
}

let instanceSeq = 0;

/** Java 5.x uses pid#nanoTime so that two clients of one process get distinct ids. */
export function defaultInstanceName(): string {
  instanceSeq++;
  return `${process.pid}#${instanceSeq}`;
}

export function splitNamesrvAddr(addr: string): string[] {
  const list = addr
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) throw new Error('namesrvAddr is empty: expected "host:port[;host:port]"');
  return list;
}
