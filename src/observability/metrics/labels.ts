// Label values as Apache RocketMQ 5 writes them (BrokerMetricsManager, RemotingHelper, MQVersion),
// so queries written against a Java broker match ours.
import { MixAll, TopicValidator } from '../../common/message-const.js';
import { RequestCode } from '../../remoting/request-code.js';
import { ResponseCode } from '../../remoting/response-code.js';

/** Common labels on every metric (BrokerMetricsConstant LABEL_CLUSTER_NAME, LABEL_NODE_TYPE, LABEL_NODE_ID). */
export interface NodeLabels {
  cluster: string;
  /** "broker" or "proxy". */
  node_type: string;
  /** The broker name (brokers), or the proxy's own name. */
  node_id: string;
}

const SYSTEM_TOPICS: ReadonlySet<string> = new Set(
  Object.entries(TopicValidator)
    .filter(([k]) => k.startsWith('RMQ_SYS_') || k === 'AUTO_CREATE_TOPIC_KEY_TOPIC')
    .map(([, v]) => v),
);

/** TopicValidator.isSystemTopic: the system set and the `rmq_sys_` prefix. */
export function isSystemTopic(topic: string): boolean {
  return SYSTEM_TOPICS.has(topic) || topic.startsWith(TopicValidator.SYSTEM_TOPIC_PREFIX);
}

/** BrokerMetricsManager.isSystemGroup: a `CID_RMQ_SYS_` group, in any case. */
export function isSystemGroup(group: string): boolean {
  return group.toLowerCase().startsWith('cid_rmq_sys_');
}

export function isRetryTopic(topic: string): boolean {
  return topic.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX);
}

export function isDlqTopic(topic: string): boolean {
  return topic.startsWith(MixAll.DLQ_GROUP_TOPIC_PREFIX);
}

export function isRetryOrDlqTopic(topic: string): boolean {
  return isRetryTopic(topic) || isDlqTopic(topic);
}

export const bool = (b: boolean): string => (b ? 'true' : 'false');

// Request and response codes label as RemotingHelper.getRequestCodeDesc / getResponseCodeDesc do:
// the constant's name in lower case. A code outside the tables is "unknown" rather than its number,
// so a client sending arbitrary codes cannot create unbounded series.
const requestDesc = new Map<number, string>(Object.entries(RequestCode).map(([k, v]) => [v, k.toLowerCase()]));
const responseDesc = new Map<number, string>(Object.entries(ResponseCode).map(([k, v]) => [v, k.toLowerCase()]));

export function requestCodeDesc(code: number): string {
  return requestDesc.get(code) ?? 'unknown';
}

export function responseCodeDesc(code: number): string {
  return responseDesc.get(code) ?? 'unknown';
}

export const SEND_REQUEST_CODES: ReadonlySet<number> = new Set([
  RequestCode.SEND_MESSAGE,
  RequestCode.SEND_MESSAGE_V2,
  RequestCode.SEND_BATCH_MESSAGE,
  RequestCode.SEND_REPLY_MESSAGE,
  RequestCode.SEND_REPLY_MESSAGE_V2,
]);

/** The 3.0.0 pre-releases, ordinals 0 to 15 of MQVersion.Version. */
const V3_0_0 = ['SNAPSHOT', 'ALPHA1', 'BETA1', 'BETA2', 'BETA3', 'BETA4', 'BETA5', 'BETA6_SNAPSHOT', 'BETA6', 'BETA7_SNAPSHOT', 'BETA7', 'BETA8_SNAPSHOT', 'BETA8', 'BETA9_SNAPSHOT', 'BETA9', 'FINAL'];

/**
 * Runs of MQVersion.Version after the 3.0.0 pre-releases: from `from`, a SNAPSHOT and a release per
 * version, minor y from `y0`, patch z from `z0` to `zMax`.
 */
const VERSION_RUNS = [
  { from: 16, major: 3, y0: 0, z0: 1, zMax: 15, ys: 1 },
  { from: 46, major: 3, y0: 1, z0: 0, zMax: 9, ys: 2 },
  { from: 86, major: 3, y0: 3, z0: 1, zMax: 9, ys: 7 },
  { from: 212, major: 4, y0: 0, z0: 0, zMax: 9, ys: 20 },
] as const;

/**
 * MQVersion.getVersionDesc(v).toLowerCase() (e.g. ali-ons' 121 is "v3_4_9", 479 "v5_3_3"), for
 * ordinals up to V5_9_9; past them the number itself.
 */
export function versionDesc(ordinal: number): string {
  if (!Number.isInteger(ordinal) || ordinal < 0) return String(ordinal);
  if (ordinal < V3_0_0.length) return `v3_0_0_${V3_0_0[ordinal].toLowerCase()}`;
  for (let r = VERSION_RUNS.length - 1; r >= 0; r--) {
    const run = VERSION_RUNS[r];
    if (ordinal < run.from) continue;
    const perMinor = run.zMax - run.z0 + 1;
    const n = (ordinal - run.from) >> 1;
    if (n >= perMinor * run.ys) return String(ordinal);
    const minorsFrom = run.major * 10 + run.y0 + Math.floor(n / perMinor);
    const name = `v${Math.floor(minorsFrom / 10)}_${minorsFrom % 10}_${run.z0 + (n % perMinor)}`;
    return (ordinal - run.from) % 2 === 0 ? `${name}_snapshot` : name;
  }
  return String(ordinal);
}

/** The version label of a connection: MQVersion's name for an ordinal, "v5_0_3" for a 5.x client's "5.0.3". */
export function versionLabel(v: number | string): string {
  if (typeof v === 'number') return versionDesc(v);
  const t = v.trim().toLowerCase();
  return /^\d+(\.\d+)*$/.test(t) ? `v${t.replace(/\./g, '_')}` : t || 'unknown';
}

/** "SendMessage" → "send_message": gRPC method names in the request_code style. */
export function snakeCase(method: string): string {
  return method.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** The part of a "%DLQ%<group>" or "%RETRY%<group>" topic after its prefix. */
export function groupOfRetryOrDlq(topic: string): string {
  if (isRetryTopic(topic)) return topic.slice(MixAll.RETRY_GROUP_TOPIC_PREFIX.length);
  if (isDlqTopic(topic)) return topic.slice(MixAll.DLQ_GROUP_TOPIC_PREFIX.length);
  return topic;
}
