// A consumer's subscription as sent in heartbeats and used for client-side tag filtering.
import { javaStringHashCode } from '../common/tag-hash.js';

export const ExpressionType = { TAG: 'TAG', SQL92: 'SQL92' } as const;
export type ExpressionTypeValue = (typeof ExpressionType)[keyof typeof ExpressionType];
export const SUB_ALL = '*';

export interface SubscriptionData {
  topic: string;
  subString: string;
  expressionType: ExpressionTypeValue;
  tagsSet: string[];
  /** Java String.hashCode of each tag (what the broker filters consume-queue entries by). */
  codeSet: number[];
  subVersion: number;
  classFilterMode: boolean;
}

/** Java FilterAPI.buildSubscriptionData: "a || b" → tags and their hash codes; "*" or "" = all. */
export function buildSubscriptionData(topic: string, expression = SUB_ALL, type: ExpressionTypeValue = 'TAG'): SubscriptionData {
  const s = expression.trim();
  const base = { topic, expressionType: type, subVersion: Date.now(), classFilterMode: false };
  if (type === ExpressionType.SQL92) return { ...base, subString: s, tagsSet: [], codeSet: [] };
  if (type !== ExpressionType.TAG) throw new Error(`unknown expression type ${String(type)}: expected TAG or SQL92`);
  if (s === '' || s === SUB_ALL) return { ...base, subString: SUB_ALL, tagsSet: [], codeSet: [] };
  const tagsSet: string[] = [];
  for (const part of s.split('||')) {
    const t = part.trim();
    if (t.length > 0 && !tagsSet.includes(t)) tagsSet.push(t);
  }
  if (tagsSet.length === 0) throw new Error(`subscription expression "${expression}" has no tag`);
  return { ...base, subString: s, tagsSet, codeSet: tagsSet.map(javaStringHashCode) };
}

/** Client-side stage of tag filtering: the broker only compared hash codes. */
export function matchesTag(sub: SubscriptionData, tag: string | undefined): boolean {
  if (sub.expressionType !== ExpressionType.TAG || sub.tagsSet.length === 0) return true;
  return tag !== undefined && sub.tagsSet.includes(tag);
}
