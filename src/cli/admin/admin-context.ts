// What every admin subcommand gets: the API, where to print, and the option parsers whose
// failures are usage errors (exit 2) rather than request failures (exit 1).
import type { AdminApi } from './admin-api.js';

export interface AdminContext {
  api: AdminApi;
  out(text: string): void;
}

/** A bad or missing option; the command exits 2. */
export class AdminUsageError extends Error {
  override name = 'AdminUsageError';
}

export function intOption(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || n < min || n > max) throw new AdminUsageError(`option ${name}: expected an integer ${min}..${max}, got "${raw}"`);
  return n;
}

export function boolOption(name: string, raw: string | undefined): boolean | undefined {
  if (raw === undefined) return undefined;
  const v = raw.trim().toLowerCase();
  if (v !== 'true' && v !== 'false') throw new AdminUsageError(`option ${name}: expected true or false, got "${raw}"`);
  return v === 'true';
}

/** -c cluster | -b broker: exactly one, as mqadmin requires. */
export function targetOf(opts: { clusterName?: string; brokerAddr?: string }): { cluster: string } | { broker: string } {
  if (opts.clusterName && opts.brokerAddr) throw new AdminUsageError('give either -c clusterName or -b brokerAddr, not both');
  if (opts.brokerAddr) return { broker: opts.brokerAddr };
  if (opts.clusterName) return { cluster: opts.clusterName };
  throw new AdminUsageError('one of -c clusterName or -b brokerAddr is required');
}

/** The broker addresses a -c/-b target stands for (the masters of a cluster). */
export async function targetAddrs(ctx: AdminContext, t: { cluster: string } | { broker: string }): Promise<string[]> {
  if ('broker' in t) return [t.broker];
  return (await ctx.api.masterAddrsOfCluster(t.cluster)).map((b) => b.addr);
}
