// A consumer's subscription to one topic: tag set (with Java hash codes) or a compiled SQL92 filter.
import { BrokerError, ResponseCode } from '../../remoting/index.js';
import { compileSql92, FilterSyntaxError, type CompiledFilter } from '../../common/filter/index.js';
import { javaStringHashCode } from '../../common/tag-hash.js';

export const ExpressionType = { TAG: 'TAG', SQL92: 'SQL92' } as const;
export const SUB_ALL = '*';

export interface SubscriptionData {
  topic: string;
  subString: string;
  expressionType: string;
  subVersion: number;
  classFilterMode: boolean;
  /** TAG: true when every tag matches ("*" or empty). */
  subAll: boolean;
  tagsSet: string[];
  codeSet: number[];
  /** SQL92: the compiled expression. */
  sql?: CompiledFilter;
}

/**
 * Builds a subscription as the broker sees it. A bad SQL92 expression raises
 * SUBSCRIPTION_PARSE_FAILED with the parser's message, which points at the offending token.
 */
export function buildSubscriptionData(topic: string, subString: string | undefined, expressionType?: string, subVersion = Date.now()): SubscriptionData {
  const type = (expressionType || ExpressionType.TAG).toUpperCase();
  const s = (subString ?? '').trim();
  const base = { topic, subString: s, expressionType: type, subVersion, classFilterMode: false };
  if (type === ExpressionType.SQL92) {
    try {
      return { ...base, subAll: false, tagsSet: [], codeSet: [], sql: compileSql92(s) };
    } catch (err) {
      const why = err instanceof FilterSyntaxError ? err.message : String(err);
      throw new BrokerError(ResponseCode.SUBSCRIPTION_PARSE_FAILED, `parse the consumer's subscription[${s}] failed: ${why}`);
    }
  }
  if (type !== ExpressionType.TAG) {
    throw new BrokerError(ResponseCode.SUBSCRIPTION_PARSE_FAILED, `unknown expression type ${type}; expected TAG or SQL92`);
  }
  if (s === '' || s === SUB_ALL) return { ...base, subString: SUB_ALL, subAll: true, tagsSet: [], codeSet: [] };
  const tagsSet: string[] = [];
  for (const part of s.split('||')) {
    const t = part.trim();
    if (t.length > 0 && !tagsSet.includes(t)) tagsSet.push(t);
  }
  if (tagsSet.length === 0) return { ...base, subString: SUB_ALL, subAll: true, tagsSet: [], codeSet: [] };
  return { ...base, subAll: false, tagsSet, codeSet: tagsSet.map(javaStringHashCode) };
}

/** From a heartbeat's SubscriptionData JSON (Java field names). */
export function subscriptionFromHeartbeat(raw: {
  topic?: string;
  subString?: string;
  expressionType?: string;
  subVersion?: number;
}): SubscriptionData {
  if (!raw.topic || typeof raw.topic !== 'string') throw new BrokerError(ResponseCode.INVALID_PARAMETER, 'heartbeat subscription without a topic');
  // Fix (compat suite, bad input): a non-string subString/expressionType used to throw a TypeError (SYSTEM_ERROR).
  for (const k of ['subString', 'expressionType'] as const) {
    if (raw[k] !== undefined && raw[k] !== null && typeof raw[k] !== 'string') {
      throw new BrokerError(ResponseCode.INVALID_PARAMETER, `heartbeat subscription of topic ${raw.topic}: ${k} is not a string`);
    }
  }
  return buildSubscriptionData(raw.topic, raw.subString, raw.expressionType, Number(raw.subVersion) || Date.now());
}

/** Consume-queue stage of filtering: tag hash codes only. */
export function isMatchedByTagsCode(sub: SubscriptionData, tagsCode: number): boolean {
  if (sub.sql || sub.subAll) return true;
  return sub.codeSet.includes(tagsCode);
}
