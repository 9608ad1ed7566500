// The alarm rules file: YAML with `webhooks` and `rules`, parsed into frozen rule sets. Every
// problem is reported with the file line that holds it, all of them together, so an operator
// fixes a file in one pass; a file with any problem is refused whole (the caller keeps the
// rules it had).
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { parseDuration } from './duration.js';

export const ALARM_TYPES = [
  'consumerLag',
  'consumerLagLatency',
  'dlqMessages',
  'diskUsage',
  'sendFailures',
  'brokerDown',
  'replicationLag',
  'halfMessages',
] as const;
export type AlarmType = (typeof ALARM_TYPES)[number];

export type ScopeKey = 'group' | 'topic' | 'broker';

/** How a type's threshold is written and what unit its values carry. */
export interface TypeSpec {
  readonly scopes: readonly ScopeKey[];
  readonly threshold: 'count' | 'seconds' | 'percent' | 'perSecond' | 'bytes' | 'none';
  /** Types judged over a window of samples (growth, rate) take `window`; this is its default. */
  readonly windowMs?: number;
}

export const TYPE_SPECS: Readonly<Record<AlarmType, TypeSpec>> = {
  consumerLag: { scopes: ['group', 'topic'], threshold: 'count' },
  consumerLagLatency: { scopes: ['group', 'topic'], threshold: 'seconds' },
  dlqMessages: { scopes: ['group'], threshold: 'count', windowMs: 5 * 60_000 },
  diskUsage: { scopes: [], threshold: 'percent' },
  sendFailures: { scopes: [], threshold: 'perSecond', windowMs: 60_000 },
  brokerDown: { scopes: ['broker'], threshold: 'none' },
  replicationLag: { scopes: [], threshold: 'bytes' },
  halfMessages: { scopes: [], threshold: 'seconds' },
};

export interface AlarmRule {
  readonly name: string;
  readonly type: AlarmType;
  readonly group?: string;
  readonly topic?: string;
  readonly broker?: string;
  /** In the type's unit: messages, seconds, percent, per second, bytes; 0 for brokerDown. */
  readonly threshold: number;
  readonly forMs: number;
  /** Set for the windowed types (dlqMessages, sendFailures). */
  readonly windowMs?: number;
  /** Webhook names; the log always gets every transition. */
  readonly notify: readonly string[];
  /** Extra alert labels (severity, team, ...). */
  readonly labels: Readonly<Record<string, string>>;
  /** Replaces the generated summary annotation. */
  readonly summary?: string;
  readonly line: number;
}

export interface WebhookConfig {
  readonly name: string;
  readonly url: string;
  /** Alertmanager's send_resolved: also POST when an alarm resolves. */
  readonly sendResolved: boolean;
  /** Tries per notification, the first included. */
  readonly maxAttempts: number;
  /** Wait before the first retry; doubles per retry up to MAX_BACKOFF_MS. */
  readonly backoffMs: number;
  /** Per try. */
  readonly timeoutMs: number;
  readonly line: number;
}

export interface AlarmRuleSet {
  readonly rules: readonly AlarmRule[];
  readonly webhooks: readonly WebhookConfig[];
  /** Where the set came from: a path, or "defaults". */
  readonly source: string;
}

export interface RuleProblem {
  readonly line: number;
  readonly message: string;
}

/** A rules file that cannot be used; `problems` each name a line and a cause. */
export class AlarmRulesError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly RuleProblem[],
  ) {
    super(`alarm rules file ${file} is invalid:\n${problems.map((p) => `  ${file}${p.line > 0 ? `:${p.line}` : ''}: ${p.message}`).join('\n')}`);
    this.name = 'AlarmRulesError';
  }
}

export const MAX_BACKOFF_MS = 30_000;
const NAME_RE = /^[\w.:-]{1,128}$/;
/** Prometheus label names. */
const LABEL_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Labels the engine sets itself. */
export const RESERVED_LABELS: ReadonlySet<string> = new Set(['alertname', 'alarmtype', 'cluster', 'broker', 'brokerId', 'slaveId', 'group', 'topic']);
const RULE_KEYS = new Set(['name', 'type', 'group', 'topic', 'broker', 'threshold', 'for', 'window', 'notify', 'labels', 'summary']);
const WEBHOOK_KEYS = new Set(['name', 'url', 'sendResolved', 'maxAttempts', 'backoff', 'timeout']);

/** Collects problems against lines while one file is read. */
class Reader {
  readonly problems: RuleProblem[] = [];
  constructor(private readonly lines: LineCounter) {}

  lineOf(node: Node | Pair | null | undefined): number {
    const range = node && 'range' in node ? node.range : node && 'key' in node && isScalar(node.key) ? node.key.range : undefined;
    return range ? this.lines.linePos(range[0]).line : 1;
  }

  problem(at: Node | Pair | null | undefined | number, message: string): void {
    this.problems.push({ line: typeof at === 'number' ? at : this.lineOf(at), message });
  }

  /** The entries of a map node as key → pair; non-scalar keys are problems. */
  entries(node: Node, what: string): Map<string, Pair<unknown, unknown>> | undefined {
    if (!isMap(node)) {
      this.problem(node, `${what} must be a mapping of keys to values`);
      return undefined;
    }
    const out = new Map<string, Pair<unknown, unknown>>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined) this.problem(node, `${what} has a key that is not a plain name`);
      else out.set(key, pair);
    }
    return out;
  }

  str(pair: Pair | undefined, what: string, re?: RegExp): string | undefined {
    if (!pair) return undefined;
    const v = pair.value as Node | null;
    if (!isScalar(v) || typeof v.value !== 'string' || v.value.length === 0) {
      this.problem(v ?? pair, `${what} must be a non-empty string`);
      return undefined;
    }
    if (re && !re.test(v.value)) {
      this.problem(v, `${what} "${v.value}" may hold only letters, digits, "_", ".", ":" and "-" (at most 128)`);
      return undefined;
    }
    return v.value;
  }

  num(pair: Pair, what: string, min: number, max: number, integer = false): number | undefined {
    const v = pair.value as Node | null;
    const n = isScalar(v) ? v.value : undefined;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      const got = isScalar(v) ? JSON.stringify(v.value) : 'not a number';
      this.problem(v ?? pair, `${what} must be ${integer ? 'an integer' : 'a number'} ${min}..${max}, got ${got}`);
      return undefined;
    }
    return n;
  }

  duration(pair: Pair, what: string, minMs = 0): number | undefined {
    const v = pair.value as Node | null;
    const ms = isScalar(v) ? parseDuration(v.value) : undefined;
    if (ms === undefined || ms < minMs) {
      const got = isScalar(v) ? JSON.stringify(v.value) : 'not a duration';
      this.problem(v ?? pair, `${what} must be a duration like 30s, 5m or 1h30m${minMs > 0 ? ' above 0' : ''}, got ${got}`);
      return undefined;
    }
    return ms;
  }

  bool(pair: Pair, what: string): boolean | undefined {
    const v = pair.value as Node | null;
    if (!isScalar(v) || typeof v.value !== 'boolean') {
      this.problem(v ?? pair, `${what} must be true or false`);
      return undefined;
    }
    return v.value;
  }

  unknownKeys(keys: Map<string, Pair<unknown, unknown>>, allowed: ReadonlySet<string>, what: string): void {
    for (const [k, pair] of keys) {
      if (!allowed.has(k)) this.problem(pair.key as Node, `unknown key "${k}" in ${what} (allowed: ${[...allowed].join(', ')})`);
    }
  }
}

/** Parses and checks a rules file; throws AlarmRulesError naming every problem with its line. */
export function parseAlarmRules(text: string, file: string): AlarmRuleSet {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const r = new Reader(lines);
  // An error found at the end of the input (an unclosed bracket) is reported on the last line.
  const lastLine = Math.max(1, text.replace(/\n+$/, '').split('\n').length);
  for (const e of doc.errors) r.problem(Math.min(lines.linePos(e.pos[0]).line, lastLine), `YAML: ${e.message.split('\n')[0]}`);
  if (r.problems.length > 0) throw new AlarmRulesError(file, r.problems);
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return Object.freeze({ rules: [], webhooks: [], source: file });
  const top = r.entries(root, 'the file');
  if (!top) throw new AlarmRulesError(file, r.problems);
  r.unknownKeys(top, new Set(['webhooks', 'rules']), 'the file');
  const webhookNames = new Set<string>();
  const webhooks = readList(r, top.get('webhooks'), 'webhooks', (n, i) => readWebhook(r, n, i, webhookNames));
  const ruleNames = new Set<string>();
  const rules = readList(r, top.get('rules'), 'rules', (n, i) => readRule(r, n, i, webhookNames, ruleNames));
  if (r.problems.length > 0) throw new AlarmRulesError(file, [...r.problems].sort((a, b) => a.line - b.line));
  return Object.freeze({ rules: Object.freeze(rules), webhooks: Object.freeze(webhooks), source: file });
}

function readList<T>(r: Reader, pair: Pair | undefined, what: string, one: (n: Node, i: number) => T | undefined): T[] {
  if (!pair || pair.value === null || (isScalar(pair.value) && pair.value.value === null)) return [];
  const seq = pair.value as Node;
  if (!isSeq(seq)) {
    r.problem(seq, `${what} must be a list ("- " entries)`);
    return [];
  }
  const out: T[] = [];
  seq.items.forEach((item, i) => {
    const v = one(item as Node, i);
    if (v !== undefined) out.push(v);
  });
  return out;
}

function readWebhook(r: Reader, node: Node, i: number, names: Set<string>): WebhookConfig | undefined {
  const what = `webhook #${i + 1}`;
  const e = r.entries(node, what);
  if (!e) return undefined;
  const before = r.problems.length;
  r.unknownKeys(e, WEBHOOK_KEYS, what);
  const name = e.has('name') ? r.str(e.get('name'), `${what}: name`, NAME_RE) : (r.problem(node, `${what} has no name`), undefined);
  if (name !== undefined && names.has(name)) r.problem(node, `webhook name "${name}" is used twice`);
  // Rules may name it even when its other fields are wrong: that problem is reported here, once.
  if (name !== undefined) names.add(name);
  const urlText = e.has('url') ? r.str(e.get('url'), `${what}: url`) : (r.problem(node, `${what} has no url`), undefined);
  if (urlText !== undefined && !isHttpUrl(urlText)) r.problem(e.get('url')!.value as Node, `${what}: url "${urlText}" is not an http:// or https:// URL`);
  const sendResolved = e.has('sendResolved') ? r.bool(e.get('sendResolved')!, `${what}: sendResolved`) : true;
  const maxAttempts = e.has('maxAttempts') ? r.num(e.get('maxAttempts')!, `${what}: maxAttempts`, 1, 20, true) : 5;
  const backoffMs = e.has('backoff') ? r.duration(e.get('backoff')!, `${what}: backoff`, 1) : 1000;
  const timeoutMs = e.has('timeout') ? r.duration(e.get('timeout')!, `${what}: timeout`, 1) : 5000;
  if (r.problems.length > before || name === undefined || urlText === undefined) return undefined;
  return Object.freeze({
    name,
    url: urlText,
    sendResolved: sendResolved ?? true,
    maxAttempts: maxAttempts ?? 5,
    backoffMs: Math.min(backoffMs ?? 1000, MAX_BACKOFF_MS),
    timeoutMs: timeoutMs ?? 5000,
    line: r.lineOf(node),
  });
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function readRule(r: Reader, node: Node, i: number, webhooks: ReadonlySet<string>, names: Set<string>): AlarmRule | undefined {
  const e = r.entries(node, `rule #${i + 1}`);
  if (!e) return undefined;
  const name = e.has('name') ? r.str(e.get('name'), `rule #${i + 1}: name`, NAME_RE) : (r.problem(node, `rule #${i + 1} has no name`), undefined);
  const what = name !== undefined ? `rule "${name}"` : `rule #${i + 1}`;
  const before = r.problems.length;
  // Checked on every rule that has a name, valid or not, so one problem does not hide another.
  if (name !== undefined && names.has(name)) r.problem(node, `rule name "${name}" is used twice`);
  if (name !== undefined) names.add(name);
  r.unknownKeys(e, RULE_KEYS, what);
  const type = readType(r, e.get('type'), node, what);
  const spec = type ? TYPE_SPECS[type] : undefined;
  const scope: Partial<Record<ScopeKey, string>> = {};
  for (const key of ['group', 'topic', 'broker'] as const) {
    const pair = e.get(key);
    if (!pair) continue;
    if (spec && !spec.scopes.includes(key)) r.problem(pair.key as Node, `${what}: "${key}" does not apply to type ${type} (it takes ${spec.scopes.join(', ') || 'no scope'})`);
    else scope[key] = r.str(pair, `${what}: ${key}`);
  }
  const threshold = spec ? readThreshold(r, e.get('threshold'), node, what, spec, type!) : undefined;
  const forMs = e.has('for') ? r.duration(e.get('for')!, `${what}: for`) : 0;
  let windowMs: number | undefined;
  if (e.has('window')) {
    if (spec && spec.windowMs === undefined) r.problem(e.get('window')!.key as Node, `${what}: "window" does not apply to type ${type}`);
    else windowMs = r.duration(e.get('window')!, `${what}: window`, 1);
  } else windowMs = spec?.windowMs;
  const notify = readNotify(r, e.get('notify'), what, webhooks);
  const labels = readLabels(r, e.get('labels'), what);
  const summary = e.has('summary') ? r.str(e.get('summary'), `${what}: summary`) : undefined;
  if (r.problems.length > before || name === undefined || type === undefined || threshold === undefined || forMs === undefined) return undefined;
  return Object.freeze({ name, type, ...scope, threshold, forMs, windowMs, notify, labels, summary, line: r.lineOf(node) });
}

function readType(r: Reader, pair: Pair | undefined, node: Node, what: string): AlarmType | undefined {
  if (!pair) {
    r.problem(node, `${what} has no type (one of ${ALARM_TYPES.join(', ')})`);
    return undefined;
  }
  const v = pair.value as Node | null;
  const t = isScalar(v) ? v.value : undefined;
  if (typeof t !== 'string' || !(ALARM_TYPES as readonly string[]).includes(t)) {
    r.problem(v ?? pair, `${what}: unknown type ${JSON.stringify(t ?? null)} (expected one of ${ALARM_TYPES.join(', ')})`);
    return undefined;
  }
  return t as AlarmType;
}

function readThreshold(r: Reader, pair: Pair | undefined, node: Node, what: string, spec: TypeSpec, type: AlarmType): number | undefined {
  if (spec.threshold === 'none') {
    if (pair) r.problem(pair.key as Node, `${what}: type ${type} takes no threshold (it fires while the broker is missing)`);
    return 0;
  }
  if (!pair) {
    r.problem(node, `${what} has no threshold`);
    return undefined;
  }
  const label = `${what}: threshold`;
  switch (spec.threshold) {
    case 'count':
      return r.num(pair, `${label} (messages)`, 0, Number.MAX_SAFE_INTEGER, true);
    case 'bytes':
      return r.num(pair, `${label} (bytes)`, 0, Number.MAX_SAFE_INTEGER, true);
    case 'percent':
      return r.num(pair, `${label} (percent of the disk)`, 0, 100);
    case 'perSecond':
      return r.num(pair, `${label} (failures per second)`, 0, 1e9);
    case 'seconds': {
      // Seconds as a number, or a duration string for readability ("10m").
      const v = pair.value as Node | null;
      if (isScalar(v) && typeof v.value === 'string') {
        const ms = r.duration(pair, `${label} (seconds or a duration)`);
        return ms === undefined ? undefined : ms / 1000;
      }
      return r.num(pair, `${label} (seconds)`, 0, 365 * 86_400);
    }
  }
}

function readNotify(r: Reader, pair: Pair | undefined, what: string, webhooks: ReadonlySet<string>): string[] {
  if (!pair || pair.value === null) return [];
  const v = pair.value as Node;
  const items: Node[] = isSeq(v) ? (v.items as Node[]) : [v];
  const out: string[] = [];
  for (const item of items) {
    if (!isScalar(item) || typeof item.value !== 'string') {
      r.problem(item, `${what}: notify must list webhook names`);
      continue;
    }
    if (!webhooks.has(item.value)) {
      const known = [...webhooks].join(', ') || 'none defined';
      r.problem(item, `${what}: notify names unknown webhook "${item.value}" (webhooks: ${known})`);
      continue;
    }
    if (!out.includes(item.value)) out.push(item.value);
  }
  return out;
}

function readLabels(r: Reader, pair: Pair | undefined, what: string): Readonly<Record<string, string>> {
  if (!pair || pair.value === null) return Object.freeze({});
  const e = r.entries(pair.value as Node, `${what}: labels`);
  const out: Record<string, string> = {};
  for (const [k, p] of e ?? []) {
    const v = p.value as Node | null;
    if (!LABEL_RE.test(k)) r.problem(p.key as Node, `${what}: label name "${k}" must match [A-Za-z_][A-Za-z0-9_]*`);
    else if (RESERVED_LABELS.has(k)) r.problem(p.key as Node, `${what}: label "${k}" is set by the alarm itself`);
    else if (!isScalar(v) || v.value === null || typeof v.value === 'object') r.problem(v ?? p, `${what}: label "${k}" must have a plain value`);
    else out[k] = String(v.value);
  }
  return Object.freeze(out);
}
