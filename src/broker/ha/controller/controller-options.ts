// What a member of a broker group needs to take part in elections, checked once at start, and how
// it is read from the broker's configuration (enableControllerMode, etcdEndpoints,
// controllerLeaseTtlSec, controllerElectionSettleMs).
import type { Logger } from '../../../common/logger.js';
import type { BrokerConfig } from '../../../config/index.js';

export interface ControllerOptions {
  /** etcd client endpoints, `host:port` (an `http://` prefix is accepted). */
  endpoints: string[];
  clusterName: string;
  brokerName: string;
  /** This member's stable id (≥ 0). In controller mode it names the member; roles come from etcd. */
  brokerId: number;
  /** Where clients reach this member (remoting). */
  brokerAddr: string;
  /** Where slaves reach this member's replication listener. */
  haAddr: string;
  /** Member lease TTL in seconds (≥ 2, etcd's own minimum). Failover takes about TTL + settle. */
  leaseTtlSec?: number;
  /** ms candidates wait, once the master is gone, for each other's offsets before one campaigns. */
  settleMs?: number;
  /** Deadline of each etcd call in ms (a keep-alive gets at most a third of the TTL). */
  callTimeoutMs?: number;
  logger: Logger;
  /** This member's max commit-log offset: the best in-sync candidate has the highest. */
  replicatedOffset(): number;
}

export type ResolvedControllerOptions = Required<ControllerOptions>;

export const CONTROLLER_DEFAULTS = { leaseTtlSec: 3, settleMs: 500, callTimeoutMs: 2000 } as const;

const ENDPOINT = /^[^\s:;,/]+:(\d{1,5})$/;

/** Splits `a:2379,b:2379` (or `;`-separated, as RocketMQ's controllerAddr) into endpoints. */
export function parseEndpoints(text: string): string[] {
  return text
    .split(/[,;]/)
    .map((e) => e.trim().replace(/^http:\/\//, ''))
    .filter((e) => e !== '');
}

/** Why an endpoint list is unusable, or undefined when it is fine. */
export function checkEndpoints(endpoints: readonly string[]): string | undefined {
  if (endpoints.length === 0) return 'no etcd endpoint given (expected host:port[,host:port...])';
  for (const e of endpoints) {
    const m = ENDPOINT.exec(e);
    if (!m || Number(m[1]) > 65535) return `etcd endpoint "${e}" is not host:port`;
  }
  return undefined;
}

export function resolveControllerOptions(o: ControllerOptions): ResolvedControllerOptions {
  const endpoints = o.endpoints.flatMap(parseEndpoints);
  const problems = [
    checkEndpoints(endpoints),
    Number.isSafeInteger(o.brokerId) && o.brokerId >= 0 ? undefined : `brokerId ${o.brokerId} is not an integer ≥ 0`,
    o.brokerName.trim() !== '' ? undefined : 'brokerName is empty',
    o.clusterName.trim() !== '' ? undefined : 'clusterName is empty',
    o.brokerAddr !== '' && o.haAddr !== '' ? undefined : 'brokerAddr and haAddr are required',
    o.leaseTtlSec === undefined || (Number.isInteger(o.leaseTtlSec) && o.leaseTtlSec >= 2) ? undefined : `leaseTtlSec ${o.leaseTtlSec} is not an integer ≥ 2`,
    o.settleMs === undefined || o.settleMs >= 0 ? undefined : `settleMs ${o.settleMs} is negative`,
    o.callTimeoutMs === undefined || o.callTimeoutMs > 0 ? undefined : `callTimeoutMs ${o.callTimeoutMs} is not positive`,
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new Error(`HA controller: ${problems.join('; ')}`);
  return {
    ...o,
    endpoints,
    leaseTtlSec: o.leaseTtlSec ?? CONTROLLER_DEFAULTS.leaseTtlSec,
    settleMs: o.settleMs ?? CONTROLLER_DEFAULTS.settleMs,
    callTimeoutMs: o.callTimeoutMs ?? CONTROLLER_DEFAULTS.callTimeoutMs,
  };
}

export interface ControllerRuntime {
  brokerAddr: string;
  haAddr: string;
  logger: Logger;
  replicatedOffset(): number;
}

/** The controller's options from a broker's configuration; undefined when controller mode is off. */
export function controllerOptionsFromConfig(
  config: Pick<
    BrokerConfig,
    'enableControllerMode' | 'etcdEndpoints' | 'controllerLeaseTtlSec' | 'controllerElectionSettleMs' | 'brokerClusterName' | 'brokerName' | 'brokerId'
  >,
  runtime: ControllerRuntime,
): ControllerOptions | undefined {
  if (!config.enableControllerMode) return undefined;
  return {
    endpoints: parseEndpoints(config.etcdEndpoints),
    clusterName: config.brokerClusterName,
    brokerName: config.brokerName,
    brokerId: config.brokerId,
    leaseTtlSec: config.controllerLeaseTtlSec,
    settleMs: config.controllerElectionSettleMs,
    ...runtime,
  };
}
