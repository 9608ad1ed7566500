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
  const needle = name + NV;
  let at = s.lastIndexOf(SEP + needle);
  if (at >= 0) at += 1;
  else if (s.startsWith(needle)) at = 0;
  else return undefined;
  const start = at + needle.length;
  let end = s.indexOf(SEP, start);
  if (end < 0) end = s.length;
  return s.slice(start, end);
}

/** True when s has no character that would break the properties encoding. */
export function isValidPropertyText(s: string): boolean {
  return s.indexOf(NV) < 0 && s.indexOf(SEP) < 0;
}
