// The TLS settings a role uses for the connections it opens itself (to name servers and other
// brokers), from tlsEnable and the tlsClient* keys (RocketMQ's tls.enable, tls.client.*).
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';

export interface ClientTlsKeys {
  tlsEnable: boolean;
  tlsClientTrustCertPath: string;
  tlsClientCertPath: string;
  tlsClientKeyPath: string;
  tlsTestModeEnable: boolean;
}

function readPem(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

/** node:tls options for RemotingClient's `tls`; undefined when tlsEnable is false. Throws naming the key of a file that cannot be read. */
export function clientTlsOf(c: ClientTlsKeys): ConnectionOptions | undefined {
  if (!c.tlsEnable) return undefined;
  if ((c.tlsClientCertPath === '') !== (c.tlsClientKeyPath === '')) throw new Error('tlsClientCertPath and tlsClientKeyPath go together: give both or neither');
  return {
    ...(c.tlsClientTrustCertPath ? { ca: readPem(c.tlsClientTrustCertPath, 'tlsClientTrustCertPath') } : {}),
    ...(c.tlsClientCertPath ? { cert: readPem(c.tlsClientCertPath, 'tlsClientCertPath'), key: readPem(c.tlsClientKeyPath, 'tlsClientKeyPath') } : {}),
    // Test mode: the connection is encrypted but the server is not verified (any certificate).
    ...(c.tlsTestModeEnable ? { rejectUnauthorized: false } : {}),
  };
}
