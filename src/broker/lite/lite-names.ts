// Lite topic names, the properties a lite message carries, and the parent topic's settings.
// A lite message is stored in its parent topic with TAGS = the lite topic name, so the consume
// queue's tag hash indexes lite topics (recovery recomputes the same hash from the record) and a
// scan for one lite topic reads 20-byte queue entries, not records.
import { javaStringHashCode } from '../../common/tag-hash.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { MessageConst } from '../../common/message-const.js';
import { removePropertyFromString, setPropertyInString } from '../../common/property-edit.js';
import type { TopicConfig } from '../../remoting/protocol/index.js';

/** The lite topic of a stored message (RocketMQ's name for it). */
export const PROPERTY_LITE_TOPIC = '__LITE_TOPIC';
/** The producer's own tag, moved aside because TAGS holds the lite topic. */
export const PROPERTY_LITE_TAG = '__LITE_TAG';

/**
 * A lite message's properties as stored: the producer's tag moved to __LITE_TAG, then TAGS and
 * __LITE_TOPIC = the lite topic, appended. The send path's usual input (no __LITE_ entry, at most
 * one TAGS entry) costs one scan and one concatenation instead of four rewrites of the string;
 * anything else takes the general rewrite, which gives the same result (property-tested).
 */
export function liteStoredProperties(props: string, name: string): string {
  const suffix = 'TAGS\u0001' + name + '\u0002__LITE_TOPIC\u0001' + name + '\u0002';
  if (props.indexOf('__LITE_') >= 0) return liteStoredPropertiesSlow(props, name);
  const t = props.indexOf('TAGS\u0001');
  if (t < 0) return withSep(props) + suffix;
  // One TAGS entry at an entry boundary, ended by its separator: cut it out, keep its value.
  if (t > 0 && props.charCodeAt(t - 1) !== 2) return liteStoredPropertiesSlow(props, name);
  const end = props.indexOf('\u0002', t);
  if (end < 0 || props.indexOf('TAGS\u0001', end) >= 0) return liteStoredPropertiesSlow(props, name);
  const rest = props.slice(0, t) + props.slice(end + 1);
  return withSep(rest) + '__LITE_TAG\u0001' + props.slice(t + 5, end) + '\u0002' + suffix;
}

function withSep(props: string): string {
  // A last entry without its \u0002 (the string is the client's) would swallow the next one.
  return props.length > 0 && props.charCodeAt(props.length - 1) !== 2 ? props + '\u0002' : props;
}

/** The general form of liteStoredProperties: every TAGS and __LITE_ entry rewritten, whatever the input. */
export function liteStoredPropertiesSlow(props: string, name: string): string {
  const tag = getPropertyFromString(props, MessageConst.PROPERTY_TAGS);
  let p = removePropertyFromString(props, MessageConst.PROPERTY_TAGS);
  if (tag !== undefined) p = setPropertyInString(p, PROPERTY_LITE_TAG, tag);
  p = setPropertyInString(p, MessageConst.PROPERTY_TAGS, name);
  return setPropertyInString(p, PROPERTY_LITE_TOPIC, name);
}

/** Longest lite topic name, announced to lite push consumers as max_lite_topic_size. */
export const MAX_LITE_TOPIC_LENGTH = 64;
const LITE_NAME_RE = /^[a-zA-Z0-9_\-.:@]+$/;

/** Why a lite topic name is refused, or undefined when it is fine. */
export function validateLiteTopicName(name: string | undefined | null): string | undefined {
  if (!name) return 'the lite topic is blank';
  if (name.length > MAX_LITE_TOPIC_LENGTH) return `the lite topic ${name.slice(0, 40)}... is longer than ${MAX_LITE_TOPIC_LENGTH} characters`;
  if (!LITE_NAME_RE.test(name)) return `the lite topic [${name.slice(0, 80)}] contains illegal characters, allowing only ^[a-zA-Z0-9_\\-.:@]+$`;
  return undefined;
}

/** The consume-queue tag code of a lite topic's messages (Java's String.hashCode of the name). */
export function liteTagsCode(name: string): number {
  return javaStringHashCode(name);
}

export function isLiteParent(tc: TopicConfig | undefined): boolean {
  const t = tc?.attributes?.['+message.type'] ?? tc?.attributes?.['message.type'];
  return t !== undefined && t.toUpperCase() === 'LITE';
}

/** A parent's limits: its attributes, else the broker.conf keys (LiteBrokerConfig), else DEFAULT_LITE_LIMITS. */
export interface LiteLimits {
  /** A lite topic that received nothing for this long is deleted (ms). Attribute in seconds. */
  liteTopicExpirationMs: number;
  /** Lite topics one parent may hold at once. */
  maxLiteTopicNum: number;
  /** Distinct lite topics of one parent one consumer group may subscribe to. */
  liteSubscriptionQuota: number;
}

/** The broker.conf keys' defaults (src/config/broker-defaults.ts), for hosts that give none. */
export const DEFAULT_LITE_LIMITS: LiteLimits = {
  liteTopicExpirationMs: 24 * 3600_000,
  maxLiteTopicNum: 2_000_000,
  liteSubscriptionQuota: 100_000,
};

function attr(tc: TopicConfig | undefined, name: string): number | undefined {
  const raw = tc?.attributes?.[`+${name}`] ?? tc?.attributes?.[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** The parent's limits: attributes +liteTopicExpiration (seconds), +maxLiteTopicNum, +liteSubscriptionQuota. */
export function liteLimitsOf(tc: TopicConfig | undefined, defaults: LiteLimits = DEFAULT_LITE_LIMITS): LiteLimits {
  const exp = attr(tc, 'liteTopicExpiration');
  return {
    liteTopicExpirationMs: exp !== undefined ? exp * 1000 : defaults.liteTopicExpirationMs,
    maxLiteTopicNum: attr(tc, 'maxLiteTopicNum') ?? defaults.maxLiteTopicNum,
    liteSubscriptionQuota: attr(tc, 'liteSubscriptionQuota') ?? defaults.liteSubscriptionQuota,
  };
}

/** Refusals the gRPC layer maps to ILLEGAL_LITE_TOPIC / the quota codes, with this message as remark. */
export type LiteErrorKind = 'ILLEGAL_LITE_TOPIC' | 'LITE_TOPIC_QUOTA_EXCEEDED' | 'LITE_SUBSCRIPTION_QUOTA_EXCEEDED' | 'NOT_LITE_TOPIC' | 'BAD_REQUEST';

export class LiteError extends Error {
  constructor(
    readonly kind: LiteErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'LiteError';
  }
}

/** Lite receipt handles start so ("l1 <liteTopic> <queueOffset> <nonce>"); pop handles never do. */
export const LITE_HANDLE_PREFIX = 'l1 ';
