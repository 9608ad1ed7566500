// messageDelayLevel: "1s 5s 10s 30s 1m ..." → delay in ms per level (index 0 = level 1).
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDelayLevels(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.trim().split(/\s+/)) {
    const m = /^(\d+)([smhd])$/.exec(part);
    if (!m) throw new Error(`bad messageDelayLevel entry "${part}": expected a number followed by s, m, h or d`);
    out.push(Number(m[1]) * UNIT_MS[m[2]]);
  }
  if (out.length === 0) throw new Error('messageDelayLevel is empty');
  return out;
}
