// Edits of an encoded properties string without building a map (send path).
import { getPropertyFromString } from './message-properties.js';

const NV = '\u0001';
const SEP = '\u0002';

/** Sets name=value, replacing every existing entry of name or appending a new one. */
export function setPropertyInString(props: string, name: string, value: string): string {
  const cleared = removePropertyFromString(props, name);
  // A last entry without its \u0002 (the string is the client's) would swallow the new one.
  const sep = cleared.length > 0 && !cleared.endsWith(SEP) ? SEP : '';
  return cleared + sep + name + NV + value + SEP;
}

/** Removes every entry of name (a name may be given twice; none may survive, issue 10). */
export function removePropertyFromString(props: string, name: string): string {
  if (getPropertyFromString(props, name) === undefined) return props;
  const needle = name + NV;
  let out = '';
  let from = 0;
  for (let start = entryStart(props, needle, 0); start >= 0; start = entryStart(props, needle, from)) {
    out += props.slice(from, start);
    const end = props.indexOf(SEP, start);
    from = end < 0 ? props.length : end + 1;
  }
  return out + props.slice(from);
}

/** Where the next entry of needle ("name\u0001") begins at or after from (an entry boundary), or -1. */
function entryStart(props: string, needle: string, from: number): number {
  if (from === 0 && props.startsWith(needle)) return 0;
  if (from >= props.length) return -1;
  const i = props.indexOf(SEP + needle, Math.max(0, from - 1));
  return i < 0 ? -1 : i + 1;
}
