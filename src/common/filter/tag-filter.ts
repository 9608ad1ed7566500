// Tag subscriptions as Java's FilterAPI.buildSubscriptionData reads them: "*" or an empty
// string subscribes to every tag; otherwise tags are split on "||", trimmed (Java String.trim)
// and empty ones dropped. codeSet holds each tag's Java String.hashCode, the value the consume
// queue stores as tagsCode, so a pull can filter on the queue entry without reading the message.

import { javaStringHashCode } from '../tag-hash.js';
import { javaTrim } from './sql92-values.js';

export { javaStringHashCode };

/** The subscription string meaning every tag. */
export const SUB_ALL = '*';

export interface TagSubscription {
  readonly subAll: boolean;
  /** Distinct tags in the order first written. */
  readonly tagsSet: string[];
  /** Distinct hash codes of tagsSet, in the same order (two tags may share one code). */
  readonly codeSet: number[];
}

/** Parses a tag subscription such as "TagA || TagB"; null, undefined, "" and "*" mean all. */
export function parseTagSubscription(subString: string | null | undefined): TagSubscription {
  if (subString === null || subString === undefined || subString.length === 0 || subString === SUB_ALL) {
    return { subAll: true, tagsSet: [], codeSet: [] };
  }
  const tags = new Set<string>();
  const codes = new Set<number>();
  for (const part of subString.split('||')) {
    const tag = javaTrim(part);
    if (tag.length === 0 || tags.has(tag)) continue;
    tags.add(tag);
    codes.add(javaStringHashCode(tag));
  }
  // Java keeps subAll false when every part was blank (e.g. "||"): such a subscription matches
  // nothing by tag.
  return { subAll: false, tagsSet: [...tags], codeSet: [...codes] };
}

/**
 * Whether a message's tag passes a tag subscription, by the exact tag string (the check a
 * client or the broker makes after the hash-code pre-filter). A message without a tag passes
 * only a subscription to all.
 */
export function tagMatches(sub: TagSubscription, tag: string | null | undefined): boolean {
  if (sub.subAll) return true;
  if (tag === null || tag === undefined || tag.length === 0) return false;
  return sub.tagsSet.includes(tag);
}

/** Whether a consume-queue tagsCode passes a tag subscription (the broker-side pre-filter). */
export function tagsCodeMatches(sub: TagSubscription, tagsCode: number): boolean {
  return sub.subAll || sub.codeSet.includes(tagsCode);
}
