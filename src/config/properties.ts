// Java .properties reader (the broker.conf / namesrv.conf form RocketMQ users already have).
// Follows java.util.Properties.load: `key=value`, `key: value`, `key value`, `#`/`!` comments,
// backslash continuation (leading blanks of the next line dropped), and \t \n \r \f \uXXXX
// escapes; any other escaped character stands for itself. Each key keeps the line it started on
// so configuration errors can point at it.

export interface PropertyEntry {
  readonly key: string;
  readonly value: string;
  /** 1-based line on which the key's logical line starts. */
  readonly line: number;
}

export interface PropertyProblem {
  readonly line: number;
  readonly message: string;
}

export interface ParsedProperties {
  /** In file order; a repeated key appears twice and the later one wins, as in Java. */
  readonly entries: PropertyEntry[];
  readonly problems: PropertyProblem[];
}

const BLANK = new Set([' ', '\t', '\f']);

interface LogicalLine {
  text: string;
  line: number;
}

/** Joins continued lines; drops blank and comment lines. */
function logicalLines(text: string): LogicalLine[] {
  const natural = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const out: LogicalLine[] = [];
  let pending: LogicalLine | undefined;
  for (let i = 0; i < natural.length; i++) {
    let raw = natural[i];
    if (pending) {
      raw = stripLeadingBlanks(raw);
    } else {
      const body = stripLeadingBlanks(raw);
      if (body === '' || body[0] === '#' || body[0] === '!') continue;
      raw = body;
    }
    const continues = endsWithOddBackslashes(raw);
    const piece = continues ? raw.slice(0, -1) : raw;
    if (pending) pending.text += piece;
    else pending = { text: piece, line: i + 1 };
    if (!continues) {
      out.push(pending);
      pending = undefined;
    }
  }
  if (pending) out.push(pending);
  return out;
}

function stripLeadingBlanks(s: string): string {
  let i = 0;
  while (i < s.length && BLANK.has(s[i])) i++;
  return s.slice(i);
}

function endsWithOddBackslashes(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

/** Index where the key ends: the first unescaped `=`, `:` or blank. */
function keyEnd(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '=' || c === ':' || BLANK.has(c)) return i;
  }
  return s.length;
}

/** Index where the value starts: blanks, at most one separator, blanks. */
function valueStart(s: string, from: number): number {
  let i = from;
  while (i < s.length && BLANK.has(s[i])) i++;
  if (i < s.length && (s[i] === '=' || s[i] === ':')) i++;
  while (i < s.length && BLANK.has(s[i])) i++;
  return i;
}

const SIMPLE_ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function unescape(s: string, line: number, problems: PropertyProblem[]): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = s[++i];
    if (next === undefined) break;
    if (next === 'u') {
      const hex = s.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        problems.push({ line, message: `malformed \\uXXXX escape "\\u${hex}"` });
        return out;
      }
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else {
      out += SIMPLE_ESCAPES[next] ?? next;
    }
  }
  return out;
}

export function parseProperties(text: string): ParsedProperties {
  const entries: PropertyEntry[] = [];
  const problems: PropertyProblem[] = [];
  for (const { text: s, line } of logicalLines(text)) {
    const end = keyEnd(s);
    const key = unescape(s.slice(0, end), line, problems);
    const value = unescape(s.slice(valueStart(s, end)), line, problems);
    entries.push({ key, value, line });
  }
  return { entries, problems };
}
