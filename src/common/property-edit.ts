// Edits of an encoded properties string without building a map (send path).
import { getPropertyFromString } from './message-properties.js';

const NV = '\u0001';
const SEP = '\u0002';

/** Sets name=value, replacing an existing entry or appending a new one. */
export function setPropertyInString(props: string, name: string, value: string): string {
  const cleared = removePropertyFromString(props, name);
  return cleared + name + NV + value + SEP;
}

/** Removes name's entry if present. */
export function removePropertyFromString(props: string, name: string): string {
  if (getPropertyFromString(props, name) === undefined) return props;
  const needle = name + NV;
  const start = props.startsWith(needle) ? 0 : props.indexOf(SEP + needle) + 1;
  let end = props.indexOf(SEP, start);
  end = end < 0 ? props.length : end + 1;
  return props.slice(0, start) + props.slice(end);
}
