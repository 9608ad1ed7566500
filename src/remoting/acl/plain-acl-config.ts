// plain_acl.yml in RocketMQ's ACL 1.0 format: parsing with line-numbered errors, the permission
// bits, remote-address patterns, and writing the file back (for the admin commands).
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, type Node } from 'yaml';

/** Permission bits as RocketMQ's acl Permission: DENY wins over anything, ANY asks for PUB or SUB. */
export const Perm = { DENY: 1, ANY: 2, PUB: 4, SUB: 8 } as const;

const PERM_WORDS: Record<string, number> = { DENY: Perm.DENY, PUB: Perm.PUB, SUB: Perm.SUB, 'PUB|SUB': Perm.PUB | Perm.SUB, 'SUB|PUB': Perm.PUB | Perm.SUB };

/** "PUB", "SUB", "PUB|SUB", "DENY" → bits; undefined for anything else. */
export function parsePerm(word: string): number | undefined {
  return PERM_WORDS[word.trim().toUpperCase()];
}

export function permName(bits: number): string {
  if (bits & Perm.DENY) return 'DENY';
  const pub = (bits & Perm.PUB) !== 0;
  const sub = (bits & Perm.SUB) !== 0;
  return pub && sub ? 'PUB|SUB' : pub ? 'PUB' : sub ? 'SUB' : 'DENY';
}

/** Whether `owned` grants `needed` (RocketMQ's Permission.checkPermission). */
export function permits(needed: number, owned: number): boolean {
  if (owned & Perm.DENY) return false;
  if (needed & Perm.ANY) return (owned & (Perm.PUB | Perm.SUB)) !== 0;
  return (needed & owned) !== 0;
}

export interface PlainAccount {
  accessKey: string;
  secretKey: string;
  /** The pattern as written ('' = none): a request from a matching address needs no signature. */
  whiteRemoteAddress: string;
  admin: boolean;
  defaultTopicPerm: number;
  defaultGroupPerm: number;
  /** Topic → bits. */
  topicPerms: Map<string, number>;
  /** Group (as written, without %RETRY%) → bits. */
  groupPerms: Map<string, number>;
}

export interface PlainAclConfig {
  globalWhiteRemoteAddresses: string[];
  accounts: PlainAccount[];
}

/** A malformed plain_acl.yml: the file, the 1-based line and the cause. */
export class AclConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
    this.name = 'AclConfigError';
  }
}

/**
 * Parses the text of a plain_acl.yml; throws AclConfigError naming the first problem's line.
 * Unknown keys are refused (a misspelt `topicPerm` would otherwise silently grant nothing).
 */
export function parsePlainAcl(text: string, file: string): PlainAclConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const lineOf = (n: Node | null | undefined): number => (n?.range ? lc.linePos(n.range[0]).line : 1);
  const fail = (n: Node | null | undefined, cause: string): never => {
    throw new AclConfigError(file, lineOf(n), cause);
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new AclConfigError(file, e.linePos?.[0].line ?? 1, e.message.split('\n')[0]);
  }
  const root = doc.contents;
  if (root === null) return { globalWhiteRemoteAddresses: [], accounts: [] };
  if (!isMap(root)) return fail(root, 'expected a mapping with globalWhiteRemoteAddresses and accounts');
  const out: PlainAclConfig = { globalWhiteRemoteAddresses: [], accounts: [] };
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const value = pair.value as Node | null;
    if (key === 'globalWhiteRemoteAddresses') out.globalWhiteRemoteAddresses = stringList(value, key, fail);
    else if (key === 'accounts') {
      if (value === null) continue;
      if (!isSeq(value)) fail(value, 'accounts: expected a list of accounts');
      for (const item of (value as { items: unknown[] }).items) out.accounts.push(parseAccount(item as Node, fail));
    } else if (key === 'dataVersion') continue; // written by RocketMQ's broker; carries no permission
    else fail(pair.key as Node, `unknown key "${key}" (expected globalWhiteRemoteAddresses or accounts)`);
  }
  for (const a of out.globalWhiteRemoteAddresses) {
    const bad = checkAddressPattern(a);
    if (bad) fail(root, `globalWhiteRemoteAddresses: "${a}": ${bad}`);
  }
  const seen = new Set<string>();
  for (const a of out.accounts) {
    if (seen.has(a.accessKey)) fail(root, `accessKey "${a.accessKey}" appears twice`);
    seen.add(a.accessKey);
  }
  return out;
}

type Fail = (n: Node | null | undefined, cause: string) => never;

function stringList(n: Node | null, key: string, fail: Fail): string[] {
  if (n === null || (isScalar(n) && (n.value === null || n.value === ''))) return [];
  if (!isSeq(n)) return fail(n, `${key}: expected a list`);
  return n.items.map((it) => {
    if (!isScalar(it) || it.value === null || typeof it.value === 'object') return fail(it as Node, `${key}: expected plain values`);
    return String(it.value).trim();
  });
}

const ACCOUNT_KEYS = new Set(['accessKey', 'secretKey', 'whiteRemoteAddress', 'admin', 'defaultTopicPerm', 'defaultGroupPerm', 'topicPerms', 'groupPerms']);

function parseAccount(n: Node, fail: Fail): PlainAccount {
  if (!isMap(n)) return fail(n, 'accounts: each account must be a mapping (accessKey, secretKey, ...)');
  const fields = new Map<string, Node | null>();
  for (const pair of n.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!ACCOUNT_KEYS.has(key)) fail(pair.key as Node, `unknown account key "${key}" (expected one of ${[...ACCOUNT_KEYS].join(', ')})`);
    fields.set(key, pair.value as Node | null);
  }
  const str = (key: string): string => {
    const v = fields.get(key);
    if (v === undefined || v === null) return '';
    if (!isScalar(v) || typeof v.value === 'object') return fail(v, `${key}: expected a plain value`);
    return String(v.value ?? '').trim();
  };
  const accessKey = str('accessKey');
  const secretKey = str('secretKey');
  if (!accessKey) fail(n, 'account without accessKey');
  if (!secretKey) fail(n, `account ${accessKey}: secretKey is missing`);
  // RocketMQ's AclUtils.checkAK/checkSK: at least 6 characters.
  if (accessKey.length < 6) fail(fields.get('accessKey'), `accessKey "${accessKey}" is shorter than 6 characters`);
  if (secretKey.length < 6) fail(fields.get('secretKey'), `account ${accessKey}: secretKey is shorter than 6 characters`);
  const white = str('whiteRemoteAddress');
  const badWhite = white ? checkAddressPattern(white) : undefined;
  if (badWhite) fail(fields.get('whiteRemoteAddress'), `account ${accessKey}: whiteRemoteAddress "${white}": ${badWhite}`);
  const adminRaw = str('admin').toLowerCase();
  if (adminRaw !== '' && adminRaw !== 'true' && adminRaw !== 'false') fail(fields.get('admin'), `account ${accessKey}: admin: expected true or false`);
  const perm = (key: string): number => {
    const w = str(key);
    if (w === '') return Perm.DENY;
    return parsePerm(w) ?? fail(fields.get(key), `account ${accessKey}: ${key}: expected PUB, SUB, PUB|SUB or DENY, got "${w}"`);
  };
  return {
    accessKey,
    secretKey,
    whiteRemoteAddress: white,
    admin: adminRaw === 'true',
    defaultTopicPerm: perm('defaultTopicPerm'),
    defaultGroupPerm: perm('defaultGroupPerm'),
    topicPerms: permList(fields.get('topicPerms') ?? null, `account ${accessKey}: topicPerms`, fail),
    groupPerms: permList(fields.get('groupPerms') ?? null, `account ${accessKey}: groupPerms`, fail),
  };
}

function permList(n: Node | null, what: string, fail: Fail): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of stringList(n, what, fail)) {
    const eq = entry.lastIndexOf('=');
    const name = eq > 0 ? entry.slice(0, eq).trim() : '';
    const bits = eq > 0 ? parsePerm(entry.slice(eq + 1)) : undefined;
    if (!name || bits === undefined) fail(n, `${what}: "${entry}": expected name=PUB|SUB|PUB|SUB|DENY`);
    out.set(name, bits!);
  }
  return out;
}

/** The YAML text for a configuration (what the admin commands write back). */
export function formatPlainAcl(c: PlainAclConfig): string {
  return stringify({
    globalWhiteRemoteAddresses: c.globalWhiteRemoteAddresses,
    accounts: c.accounts.map((a) => ({
      accessKey: a.accessKey,
      secretKey: a.secretKey,
      whiteRemoteAddress: a.whiteRemoteAddress,
      admin: a.admin,
      defaultTopicPerm: permName(a.defaultTopicPerm),
      defaultGroupPerm: permName(a.defaultGroupPerm),
      topicPerms: [...a.topicPerms].map(([t, p]) => `${t}=${permName(p)}`),
      groupPerms: [...a.groupPerms].map(([g, p]) => `${g}=${permName(p)}`),
    })),
  });
}

// Remote addresses. RocketMQ's RemoteAddressStrategyFactory patterns for IPv4: "*" (anyone), an
// exact address, "a,b,c" (a list), "192.168.1.*" / "192.168.*.*" (any octet from the first star
// on), "192.168.1.1-100" (a range in an octet), "192.168.1.{1,2}" (a list in the last octet).
// IPv6 addresses match exactly or by "*".

/** Why a pattern is not one RocketMQ accepts, or undefined. */
export function checkAddressPattern(p: string): string | undefined {
  if (p === '*' || p === '*.*.*.*') return undefined;
  if (p.includes(':')) return /^[0-9a-fA-F:.]+$/.test(p) ? undefined : 'not an IPv6 address';
  if (p.includes(',') && !p.endsWith('}')) {
    for (const one of p.split(',')) if (!isIPv4(one.trim())) return `"${one.trim()}" is not an IPv4 address`;
    return undefined;
  }
  const parts = p.split('.');
  if (parts.length !== 4) return 'expected four octets, "*", a range like 1-10 or a list like {1,2}';
  for (let i = 0; i < 4; i++) {
    const o = parts[i];
    if (o === '*' || isOctet(o)) continue;
    if (/^\d{1,3}-\d{1,3}$/.test(o)) {
      const [a, b] = o.split('-').map(Number);
      if (a <= b && b <= 255) continue;
    }
    if (i === 3 && /^\{\d{1,3}(,\d{1,3})*\}$/.test(o) && o.slice(1, -1).split(',').every(isOctet)) continue;
    return `octet "${o}" is not a number, "*", a range or a {list}`;
  }
  return undefined;
}

function isOctet(s: string): boolean {
  return /^\d{1,3}$/.test(s) && Number(s) <= 255;
}

function isIPv4(s: string): boolean {
  const p = s.split('.');
  return p.length === 4 && p.every(isOctet);
}

/** Whether `host` (no port; IPv4-mapped IPv6 unwrapped) matches a pattern accepted by checkAddressPattern. */
export function addressMatches(pattern: string, host: string): boolean {
  if (pattern === '') return false;
  if (pattern === '*' || pattern === '*.*.*.*') return true;
  if (pattern.includes(':')) return pattern.toLowerCase() === host.toLowerCase();
  if (pattern.includes(',') && !pattern.endsWith('}')) return pattern.split(',').some((one) => one.trim() === host);
  const want = pattern.split('.');
  const got = host.split('.');
  if (got.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const o = want[i];
    if (o === '*') continue;
    if (o.startsWith('{')) {
      if (!o.slice(1, -1).split(',').some((x) => Number(x) === Number(got[i]))) return false;
    } else if (o.includes('-')) {
      const [a, b] = o.split('-').map(Number);
      const n = Number(got[i]);
      if (!(n >= a && n <= b)) return false;
    } else if (Number(o) !== Number(got[i])) return false;
  }
  return true;
}

/** The host part of "ip:port", "[v6]:port" or a bare address, with "::ffff:" unwrapped. */
export function hostOf(remote: string): string {
  let h = remote;
  const bracket = /^\[(.+)\]:\d+$/.exec(h);
  if (bracket) h = bracket[1];
  else if (/^[^:]+:\d+$/.test(h)) h = h.slice(0, h.lastIndexOf(':'));
  else if (/^[0-9a-fA-F:.]+:\d+$/.test(h) && h.includes('.')) h = h.slice(0, h.lastIndexOf(':'));
  return h.toLowerCase().startsWith('::ffff:') ? h.slice(7) : h;
}
