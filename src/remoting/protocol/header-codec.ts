// Headers declared once as schemas: encodeHeader writes extFields from typed values, and
// decodeHeader (../header.ts) reads them back, so a sender and its receiver cannot disagree on a
// field's name or type.
import { BrokerError } from '../broker-error.js';
import { decodeHeader, type DecodedHeader, type FieldSpec, type HeaderSchema } from '../header.js';
import { ResponseCode } from '../response-code.js';

export { decodeHeader, type DecodedHeader, type FieldSpec, type HeaderSchema };

type ValueOf<F extends FieldSpec> = F['type'] extends 'string' ? string : F['type'] extends 'bool' ? boolean : number;
type RequiredKeys<S extends HeaderSchema> = { [K in keyof S]: S[K]['required'] extends true ? K : never }[keyof S];
type OptionalKeys<S extends HeaderSchema> = Exclude<keyof S, RequiredKeys<S>>;

/** What a sender passes: required fields must be there, optional ones may be left out (or undefined/null). */
export type HeaderValues<S extends HeaderSchema> = { [K in RequiredKeys<S>]: ValueOf<S[K]> } & {
  [K in OptionalKeys<S>]?: ValueOf<S[K]> | undefined | null;
};

/**
 * extFields in schema order; absent optional fields are left out. A number that is not a safe
 * integer (NaN from a bad conversion, say), an int out of int32 range, a value of the wrong type or
 * a missing required field raises BrokerError(INVALID_PARAMETER) naming the field, the same remark
 * the receiving side would give, instead of sending "NaN".
 */
export function encodeHeader<S extends HeaderSchema>(schema: S, values: HeaderValues<S>): Record<string, string> {
  const v = values as Record<string, unknown>;
  const { names, specs } = planOf(schema);
  const out: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const value = v[name];
    if (value === undefined || value === null) {
      if (specs[i].required) throw new BrokerError(ResponseCode.INVALID_PARAMETER, `the custom field <${name}> is null`);
      continue;
    }
    out[name] = typeof value === 'string' && specs[i].type === 'string' ? value : encodeField(name, specs[i], value);
  }
  return out;
}

interface Plan {
  names: string[];
  specs: FieldSpec[];
}

// Senders encode a header per request (a producer per message): the schema's fields are listed once.
const plans = new WeakMap<HeaderSchema, Plan>();

function planOf(schema: HeaderSchema): Plan {
  let plan = plans.get(schema);
  if (plan === undefined) {
    plan = { names: Object.keys(schema), specs: Object.values(schema) };
    plans.set(schema, plan);
  }
  return plan;
}

function encodeField(name: string, spec: FieldSpec, value: unknown): string {
  switch (spec.type) {
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'bool':
      if (typeof value === 'boolean') return value ? 'true' : 'false';
      break;
    case 'int':
    case 'long':
      if (typeof value !== 'number') break;
      if (!Number.isSafeInteger(value)) {
        throw new BrokerError(ResponseCode.INVALID_PARAMETER, `the custom field <${name}> is not a number: "${String(value)}"`);
      }
      if (spec.type === 'int' && (value > 2147483647 || value < -2147483648)) {
        throw new BrokerError(ResponseCode.INVALID_PARAMETER, `the custom field <${name}> is out of int range: ${value}`);
      }
      return String(value);
  }
  throw new BrokerError(ResponseCode.INVALID_PARAMETER, `the custom field <${name}> is a ${typeof value}, expected ${spec.type}`);
}
