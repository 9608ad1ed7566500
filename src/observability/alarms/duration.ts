// Durations as Prometheus writes them ("30s", "5m", "1h30m", "250ms"), for `for`, `window`,
// `backoff` and `timeout` in the alarm rules file.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
/** Longer than anything an alarm needs; keeps every value a safe integer of milliseconds. */
const MAX_MS = 365 * UNIT_MS.d;

/**
 * Milliseconds of a duration string, or undefined when it is not one. A bare 0 is accepted (no
 * unit needed for nothing); any other number needs a unit, since "30" could mean 30 s or 30 ms.
 */
export function parseDuration(raw: unknown): number | undefined {
  if (raw === 0 || raw === '0') return 0;
  if (typeof raw !== 'string' || raw.length === 0) return undefined;
  PART_RE.lastIndex = 0;
  let total = 0;
  let at = 0;
  for (let m = PART_RE.exec(raw); m; m = PART_RE.exec(raw)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    at = PART_RE.lastIndex;
  }
  if (at !== raw.length || total > MAX_MS) return undefined;
  return Math.round(total);
}

/** "1h30m", "45s", "250ms", "0s": the shortest exact form. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  return rest > 0 ? `${out}${rest}ms` : out;
}
