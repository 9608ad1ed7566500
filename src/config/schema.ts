// Key specs shared by every role's DEFAULTS table, and the TypeScript types derived from them.
// A table is plain data (`as const satisfies ConfigSchema`), so adding a key is one entry.

interface KeyBase {
  /** One line: unit and trade-off. */
  readonly doc: string;
  /** Extra validation after type coercion; returns the expected form when the value is wrong. */
  readonly check?: (value: never) => string | undefined;
}

export interface StringKey extends KeyBase {
  readonly type: 'string';
  readonly default: string;
  readonly check?: (value: string) => string | undefined;
}

export interface IntKey extends KeyBase {
  /** int = 32-bit signed like Java's int; long = any safe integer. */
  readonly type: 'int' | 'long';
  readonly default: number;
  readonly min?: number;
  readonly max?: number;
}

export interface FloatKey extends KeyBase {
  readonly type: 'float';
  readonly default: number;
  readonly min?: number;
  readonly max?: number;
}

export interface BoolKey extends KeyBase {
  readonly type: 'bool';
  readonly default: boolean;
}

export interface EnumKey extends KeyBase {
  readonly type: 'enum';
  /** Canonical spellings; input is matched case-insensitively and stored canonically. */
  readonly values: readonly string[];
  readonly default: string;
}

export type KeySpec = StringKey | IntKey | FloatKey | BoolKey | EnumKey;
export type ConfigSchema = Readonly<Record<string, KeySpec>>;

export type ValueOf<K extends KeySpec> = K extends { type: 'enum'; values: readonly (infer V)[] }
  ? V
  : K extends { type: 'bool' }
    ? boolean
    : K extends { type: 'int' | 'long' | 'float' }
      ? number
      : string;

/** The frozen configuration object a schema describes. */
export type ConfigOf<S extends ConfigSchema> = { readonly [K in keyof S]: ValueOf<S[K]> };

/** The form a value must take, for error messages. */
export function expectedForm(spec: KeySpec): string {
  switch (spec.type) {
    case 'string':
      return 'a string';
    case 'int':
    case 'long': {
      const range = spec.min !== undefined || spec.max !== undefined ? ` ${spec.min ?? ''}..${spec.max ?? ''}` : '';
      return `an integer${range}`;
    }
    case 'float':
      return 'a number';
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of ${spec.values.join(', ')}`;
  }
}
