// Value checks shared by several keys; each returns the expected form when the value is wrong.

const HOST_PORT = /^[^\s:;]+:\d{1,5}$/;

/** `host:port[;host:port…]`, or empty (no name server). */
export function checkAddrList(value: string): string | undefined {
  if (value === '') return undefined;
  const parts = value.split(';').filter((p) => p !== '');
  const ok = parts.length > 0 && parts.every((p) => HOST_PORT.test(p) && Number(p.slice(p.lastIndexOf(':') + 1)) <= 65535);
  return ok ? undefined : 'host:port[;host:port...]';
}

/** Hours of the day as two digits, `;`-separated (RocketMQ's deleteWhen, e.g. "04" or "01;04"). */
export function checkHours(value: string): string | undefined {
  const ok = value.split(';').every((h) => /^\d{2}$/.test(h) && Number(h) < 24);
  return ok ? undefined : 'two-digit hours 00..23 separated by ";" (e.g. 04 or 01;04)';
}

/** Space-separated durations like "1s 5s 10s 30s 1m 2h 1d". */
export function checkDelayLevels(value: string): string | undefined {
  const levels = value.trim().split(/\s+/);
  const ok = levels.length > 0 && levels.every((l) => /^\d+[smhd]$/.test(l));
  return ok ? undefined : 'space-separated durations with unit s, m, h or d (e.g. "1s 5s 1m 2h")';
}

export function checkNonEmpty(value: string): string | undefined {
  return value.trim() === '' ? 'a non-empty string' : undefined;
}
