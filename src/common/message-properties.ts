// The properties string of a stored message: name \u0001 value \u0002 after every entry.

const NV = '\u0001';
const SEP = '\u0002';

export type MessageProperties = Record<string, string>;

/** Encodes properties in insertion order; every entry, the last included, ends with \u0002. */
export function messageProperties2String(props: MessageProperties | Map<string, string>): string {
  let out = '';
  const entries = props instanceof Map ? props.entries() : Object.entries(props);
  for (const [k, v] of entries) {
    if (v === undefined || v === null) continue;
    out += k + NV + v + SEP;
  }
  return out;
}

/** Parses a properties string; empty pieces and pieces without a separator are ignored, as Java does. */
export function string2messageProperties(s: string): MessageProperties {
  const out: MessageProperties = {};
  let pos = 0;
  while (pos < s.length) {
    let end = s.indexOf(SEP, pos);
    if (end < 0) end = s.length;
    const nv = s.indexOf(NV, pos);
    if (nv >= 0 && nv < end) {
      const name = s.slice(pos, nv);
      if (name.length > 0) out[name] = s.slice(nv + 1, end);
    }
    pos = end + 1;
  }
  return out;
}

/**
 * Reads one property straight from the encoded string without building a map: the store's hot
 * path needs only TAGS, KEYS and UNIQ_KEY of each message. Returns undefined when absent. A name
 * given twice reads as its last entry, as string2messageProperties (and Java's map) has it: the
 * broker must act on the value its clients will see (issue 10).
 */
export function getPropertyFromString(s: string, name: string): string | undefined {
  const n = needlesOf(name);
  let at = s.lastIndexOf(n.inner);
  if (at >= 0) at += 1;
  else if (s.startsWith(n.first)) at = 0;
  else return undefined;
  const start = at + n.first.length;
  let end = s.indexOf(SEP, start);
  if (end < 0) end = s.length;
  return s.slice(start, end);
}

interface Needles {
  /** "name\u0001": an entry at the start of the string. */
  first: string;
  /** "\u0002name\u0001": an entry after another. */
  inner: string;
}

// Built once per name (the first search flattens them for good): concatenating them per lookup
// made two strings per call, each flattened again by the search (the send path looks up six
// names per message, issue 17). Names can come from users (filters, queries): the table is bounded.
const NEEDLES = new Map<string, Needles>();
const MAX_NEEDLES = 512;

function needlesOf(name: string): Needles {
  let n = NEEDLES.get(name);
  if (n === undefined) {
    if (NEEDLES.size >= MAX_NEEDLES) NEEDLES.clear();
    const first = name + NV;
    n = { first, inner: SEP + first };
    NEEDLES.set(name, n);
  }
  return n;
}

/** True when s has no character that would break the properties encoding. */
export function isValidPropertyText(s: string): boolean {
  return s.indexOf(NV) < 0 && s.indexOf(SEP) < 0;
}
