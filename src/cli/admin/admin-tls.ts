// TLS for `apogee admin`: --tls (or APOGEE_TLS=true) connects to name servers and brokers over
// TLS, verifying them against the system CAs or --tlsTrustCertPath (APOGEE_TLS_TRUST_CERT_PATH);
// --tlsInsecure (APOGEE_TLS_INSECURE=true) encrypts without verifying, for test certificates.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Command } from 'commander';
import { AdminUsageError } from './admin-context.js';

export function addTlsOptions(cmd: Command): Command {
  return cmd
    .option('--tls', 'connect over TLS (servers with tlsServerMode permissive or enforcing; default: $APOGEE_TLS)')
    .option('--tlsTrustCertPath <file>', 'PEM CA certificates the servers must chain to (default: $APOGEE_TLS_TRUST_CERT_PATH, else the system CAs)')
    .option('--tlsInsecure', 'TLS without verifying the server certificate (test certificates only; default: $APOGEE_TLS_INSECURE)');
}

const truthy = (v: string | undefined): boolean => v !== undefined && /^(1|true|yes)$/i.test(v.trim());

/** node:tls options from the flags, else the environment; undefined = plain TCP. */
export function adminTlsOf(opts: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): ConnectionOptions | undefined {
  const trust = (opts.tlsTrustCertPath as string | undefined) ?? env.APOGEE_TLS_TRUST_CERT_PATH;
  const insecure = opts.tlsInsecure === true || truthy(env.APOGEE_TLS_INSECURE);
  // A trust file or --tlsInsecure only makes sense with TLS, so either turns it on.
  const on = opts.tls === true || truthy(env.APOGEE_TLS) || trust !== undefined || insecure;
  if (!on) return undefined;
  let ca: Buffer | undefined;
  if (trust !== undefined) {
    try {
      ca = readFileSync(trust);
    } catch (err) {
      throw new AdminUsageError(`option --tlsTrustCertPath: cannot read ${trust}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  return { ...(ca ? { ca } : {}), ...(insecure ? { rejectUnauthorized: false } : {}) };
}
