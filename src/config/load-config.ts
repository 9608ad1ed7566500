// defaults ← file ← environment ← flags, with every problem collected into one ConfigError.
import { readFileSync } from 'node:fs';
import { ACL_KEYS, aclFileProblem, defaultAclConfigFile } from './acl.js';
import { BROKER_DEFAULTS } from './broker-defaults.js';
import { CONSOLE_DEFAULTS, consoleLoginProblem } from './console-defaults.js';
import { NAMESRV_DEFAULTS } from './namesrv-defaults.js';
import { parseProperties } from './properties.js';
import { PROXY_DEFAULTS } from './proxy-defaults.js';
import { expectedForm, type ConfigOf, type ConfigSchema, type KeySpec } from './schema.js';
import { STANDALONE_DEFAULTS } from './standalone-defaults.js';

export const ROLE_SCHEMAS = {
  namesrv: NAMESRV_DEFAULTS,
  broker: BROKER_DEFAULTS,
  proxy: PROXY_DEFAULTS,
  standalone: STANDALONE_DEFAULTS,
  console: CONSOLE_DEFAULTS,
} as const;

export type Role = keyof typeof ROLE_SCHEMAS;
export type ConfigFor<R extends Role> = ConfigOf<(typeof ROLE_SCHEMAS)[R]>;

/** Environment variables named `APOGEE_<key>` (key matched case-insensitively) set keys. */
export const ENV_PREFIX = 'APOGEE_';

export type RawValue = string | number | boolean;

export interface LoadOptions {
  /** Path of a Java-properties file (broker.conf form). */
  file?: string;
  /** Usually process.env, passed in so nothing below the CLI reads it. Unknown APOGEE_ names are ignored. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Command-line `--key=value` options; unknown keys are errors. */
  flags?: Readonly<Record<string, RawValue>>;
}

export interface ConfigProblem {
  readonly source: 'file' | 'env' | 'flag';
  /** The key as written (empty for a problem with the file itself). */
  readonly key: string;
  readonly file?: string;
  readonly line?: number;
  /** The full sentence, already naming the place, the key and the expected form. */
  readonly message: string;
}

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Coerced = { ok: true; value: string | number | boolean } | { ok: false };

const INT_RE = /^[+-]?\d+$/;

function toInteger(spec: { type: 'int' | 'long'; min?: number; max?: number }, raw: RawValue): Coerced {
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string' && INT_RE.test(raw.trim())) n = Number(raw.trim());
  else return { ok: false };
  if (!Number.isSafeInteger(n)) return { ok: false };
  if (spec.type === 'int' && (n < -2147483648 || n > 2147483647)) return { ok: false };
  if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) return { ok: false };
  return { ok: true, value: n };
}

function coerce(spec: KeySpec, raw: RawValue): Coerced {
  switch (spec.type) {
    case 'string':
      return { ok: true, value: String(raw).trim() };
    case 'int':
    case 'long':
      return toInteger(spec, raw);
    case 'float': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw.trim()) : NaN;
      const inRange = (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max);
      return Number.isFinite(n) && inRange ? { ok: true, value: n } : { ok: false };
    }
    case 'bool': {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      const s = String(raw).trim().toLowerCase();
      return s === 'true' || s === 'false' ? { ok: true, value: s === 'true' } : { ok: false };
    }
    case 'enum': {
      const s = String(raw).trim().toLowerCase();
      const hit = spec.values.find((v) => v.toLowerCase() === s);
      return hit === undefined ? { ok: false } : { ok: true, value: hit };
    }
  }
}

interface Place {
  source: ConfigProblem['source'];
  file?: string;
  line?: number;
}

function describe(place: Place, key: string): string {
  if (place.source === 'file') return `${place.file}:${place.line}: ${key}`;
  if (place.source === 'env') return `environment ${ENV_PREFIX}${key}`;
  return `option --${key}`;
}

class Collector {
  readonly values: Record<string, string | number | boolean> = {};
  readonly problems: ConfigProblem[] = [];
  /** Where each key got its value, for problems found after all sources are read. */
  readonly places = new Map<string, Place>();
  constructor(private readonly schema: ConfigSchema) {
    for (const [key, spec] of Object.entries(schema)) this.values[key] = spec.default;
  }

  problem(place: Place, key: string, message: string): void {
    this.problems.push({ ...place, key, message });
  }

  set(place: Place, key: string, raw: RawValue): void {
    const spec = Object.hasOwn(this.schema, key) ? this.schema[key] : undefined;
    if (!spec) {
      const near = Object.keys(this.schema).find((k) => k.toLowerCase() === key.toLowerCase());
      const hint = near ? ` (did you mean ${near}?)` : '';
      this.problem(place, key, `${describe(place, key)}: unknown key "${key}"${hint}`);
      return;
    }
    const c = coerce(spec, raw);
    const extra = c.ok && spec.check ? (spec.check as (v: unknown) => string | undefined)(c.value) : undefined;
    if (!c.ok || extra !== undefined) {
      const form = extra ?? expectedForm(spec);
      this.problem(place, key, `${describe(place, key)}: expected ${form}, got ${JSON.stringify(String(raw))}`);
      return;
    }
    this.values[key] = c.value;
    this.places.set(key, place);
  }
}

/** Features asked for that cannot work as configured: refused rather than silently ignored. */
function checkUnavailable(col: Collector, file: string | undefined): void {
  // The ACL accounts file defaults to plain_acl.yml beside the -c file, as RocketMQ's conf/.
  if (col.values.aclConfigFile === '') col.values.aclConfigFile = defaultAclConfigFile(file);
  for (const key of ACL_KEYS) {
    const place = col.places.get(key);
    const problem = col.values[key] === true && place ? aclFileProblem(key, String(col.values.aclConfigFile)) : undefined;
    if (problem && place) col.problem(place, key, `${describe(place, key)}: ${problem}`);
  }
  if ('consoleUser' in col.values) {
    const login = consoleLoginProblem(col.values as { consoleUser: string; consolePassword: string });
    const place = col.places.get('consoleUser') ?? col.places.get('consolePassword');
    if (login && place) col.problem(place, 'consoleUser', `${describe(place, 'consoleUser')}: ${login}`);
  }
}

function applyFile(col: Collector, file: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    col.problem({ source: 'file', file }, '', `cannot read config file ${file}: ${reason}`);
    return;
  }
  const parsed = parseProperties(text);
  for (const p of parsed.problems) col.problem({ source: 'file', file, line: p.line }, '', `${file}:${p.line}: ${p.message}`);
  for (const e of parsed.entries) col.set({ source: 'file', file, line: e.line }, e.key, e.value);
}

function applyEnv(col: Collector, schema: ConfigSchema, env: Readonly<Record<string, string | undefined>>): void {
  const byLower = new Map(Object.keys(schema).map((k) => [k.toLowerCase(), k]));
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith(ENV_PREFIX)) continue;
    const key = byLower.get(name.slice(ENV_PREFIX.length).toLowerCase());
    if (key) col.set({ source: 'env' }, key, value);
  }
}

/** Loads a role's configuration; throws ConfigError listing every problem found. */
export function loadConfig<R extends Role>(role: R, opts: LoadOptions = {}): ConfigFor<R> {
  const schema: ConfigSchema = ROLE_SCHEMAS[role];
  const col = new Collector(schema);
  if (opts.file !== undefined) applyFile(col, opts.file);
  if (opts.env) applyEnv(col, schema, opts.env);
  for (const [key, value] of Object.entries(opts.flags ?? {})) col.set({ source: 'flag' }, key, value);
  checkUnavailable(col, opts.file);
  if (col.problems.length > 0) throw new ConfigError(col.problems);
  return Object.freeze(col.values) as unknown as ConfigFor<R>;
}
