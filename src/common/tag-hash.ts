// The consume-queue tagsCode is Java's String.hashCode of the tag, computed over UTF-16 code
// units with int32 wrap-around; JS strings are UTF-16 too, so charCodeAt matches Java exactly,
// non-ASCII and surrogate pairs included.

/** Java `String.hashCode()` of s (a signed int32). */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** tagsCode for a TAGS value: 0 when there is no tag, else the Java hash code. */
export function tagsString2tagsCode(tags: string | undefined | null): number {
  if (tags === undefined || tags === null || tags.length === 0) return 0;
  return javaStringHashCode(tags);
}
