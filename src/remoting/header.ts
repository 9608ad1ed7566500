// Request headers declared once as schemas and decoded by one function that names what is wrong.
import { BrokerError } from './broker-error.js';
import { ResponseCode } from './response-code.js';

export type FieldType = 'string' | 'int' | 'long' | 'bool';
export interface FieldSpec {
  readonly type: FieldType;
  readonly required?: boolean;
}
export type HeaderSchema = Readonly<Record<string, FieldSpec>>;

type FieldValue<F extends FieldSpec> = F['type'] extends 'string' ? string : F['type'] extends 'bool' ? boolean : number;
export type DecodedHeader<S extends HeaderSchema> = {
  [K in keyof S]: S[K]['required'] extends true ? FieldValue<S[K]> : FieldValue<S[K]> | undefined;
};

const INT_RE = /^[+-]?\d+$/;

/**
 * Decodes extFields by a schema. Missing required fields and unparsable values raise
 * BrokerError(INVALID_PARAMETER) naming the field, as RocketMQ's "the custom field <x> is null" does.
 */
export function decodeHeader<S extends HeaderSchema>(schema: S, ext: Record<string, string>): DecodedHeader<S> {
  const out: Record<string, unknown> = {};
  for (const name in schema) {
    const spec = schema[name];
    const raw = ext[name];
    if (raw === undefined || raw === '') {
      if (spec.required && !(raw === '' && spec.type === 'string')) {
        throw new BrokerError(ResponseCode.INVALID_PARAMETER, `the custom field <${name}> is null`);
      }
      out[name] = raw === '' && spec.type === 'string' ? '' : undefined;
      continue;
    }
    out[name] = parseField(name, spec.type, raw);
  }
  return out as DecodedHeader<S>;
}

export function parseField(name: string, type: FieldType, raw: string): string | number | boolean {
  switch (type) {
    case 'string':
      return raw;
    case 'bool':
      // Java Boolean.parseBoolean: only "true" (any case) is true.
      return raw.toLowerCase() === 'true';
    case 'int':
    case 'long': {
      const s = raw.trim();
      if (!INT_RE.test(s)) {
        throw new BrokerError(ResponseCode.INVALID_PARAMETER, `the custom field <${name}> is not a number: "${raw.slice(0, 40)}"`);
      }
      const n = Number(s);
      if (type === 'int' && (n > 2147483647 || n < -2147483648)) {
        throw new BrokerError(ResponseCode.INVALID_PARAMETER, `the custom field <${name}> is out of int range: ${s}`);
      }
      if (!Number.isSafeInteger(n)) {
        throw new BrokerError(ResponseCode.INVALID_PARAMETER, `the custom field <${name}> is out of range: ${s}`);
      }
      return n;
    }
  }
}
