// Reading JSON bodies whose shape the sender controls: each failure names the field it is about.

/** Raised for a body that cannot be decoded; the message says what is wrong. */
export class BodyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BodyFormatError';
  }
}

export function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BodyFormatError(`${what} is not valid JSON (${(err as Error).message})`);
  }
}

export function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BodyFormatError(`${what} is not an object`);
  return v as Record<string, unknown>;
}

/** A number or numeric string (fastjson writes some longs as strings); fallback when absent. */
export function numberField(v: unknown, fallback: number, what: string): number {
  if (v === undefined || v === null) return fallback;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new BodyFormatError(`${what} is not a number`);
  return n;
}
