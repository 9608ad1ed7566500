// Console login: one user and password from the config, or an ACL admin account (console-acl.ts),
// a random session token in an HttpOnly cookie, and a guard in front of every /api/ route. Credentials are compared as SHA-256 digests
// with timingSafeEqual, so neither the length nor the first differing byte shows in the timing.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AclCredentials } from './console-acl.js';

export const SESSION_COOKIE = 'apogee_console';
/** A session lasts this long after login. */
const SESSION_TTL_MS = 8 * 3600_000;
/** The oldest sessions are dropped beyond this many, so logins cannot grow memory without bound. */
const MAX_SESSIONS = 1000;

export interface ConsoleLogin {
  user: string;
  password: string;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function credentialsMatch(expected: ConsoleLogin, user: string, password: string): boolean {
  // Both compared every time: a wrong user costs the same as a wrong password.
  const u = timingSafeEqual(digest(expected.user), digest(user));
  const p = timingSafeEqual(digest(expected.password), digest(password));
  return u && p;
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Wrong logins from one address within a minute before it is refused (429) for the rest of it. */
const MAX_FAILURES_PER_MINUTE = 10;

export class ConsoleSessions {
  /** token → expiry, and the ACL account of a session opened with one. */
  private readonly sessions = new Map<string, { until: number; acl?: AclCredentials }>();
  /** Per client address: wrong logins in the current minute window. */
  private readonly failures = new Map<string, { since: number; count: number }>();

  constructor(
    readonly login: ConsoleLogin | undefined,
    /** The cluster checks ACL: its admin accounts log in too. */
    readonly acl = false,
  ) {}

  get required(): boolean {
    return this.login !== undefined || this.acl;
  }

  /** A new session token, or undefined when the credentials are wrong. */
  open(user: string, password: string, now = Date.now()): string | undefined {
    if (!this.login || !credentialsMatch(this.login, user, password)) return undefined;
    return this.add(undefined, now);
  }

  /** A session of an ACL account a broker has accepted (console-acl.ts checkAclLogin). */
  openAcl(acl: AclCredentials, now = Date.now()): string {
    return this.add(acl, now);
  }

  private add(acl: AclCredentials | undefined, now: number): string {
    const token = randomBytes(32).toString('base64url');
    this.sessions.set(token, { until: now + SESSION_TTL_MS, acl });
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    return token;
  }

  /** The ACL account a valid session logged in with, if any. */
  aclOf(token: string | undefined): AclCredentials | undefined {
    return token ? this.sessions.get(token)?.acl : undefined;
  }

  /** Guessing passwords costs a minute per ten tries and address. */
  throttled(addr: string, now = Date.now()): boolean {
    const f = this.failures.get(addr);
    return f !== undefined && now - f.since < 60_000 && f.count >= MAX_FAILURES_PER_MINUTE;
  }

  failed(addr: string, now = Date.now()): void {
    const f = this.failures.get(addr);
    if (!f || now - f.since >= 60_000) this.failures.set(addr, { since: now, count: 1 });
    else f.count++;
    if (this.failures.size > MAX_SESSIONS) this.failures.delete(this.failures.keys().next().value!);
  }

  valid(token: string | undefined, now = Date.now()): boolean {
    if (!this.required) return true;
    if (!token) return false;
    const until = this.sessions.get(token)?.until;
    if (until === undefined) return false;
    if (until < now) {
      this.sessions.delete(token);
      return false;
    }
    return true;
  }

  close(token: string | undefined): void {
    if (token) this.sessions.delete(token);
  }

  tokenOf(req: FastifyRequest): string | undefined {
    return cookieValue(req.headers.cookie, SESSION_COOKIE);
  }

  setCookie(reply: FastifyReply, token: string): void {
    void reply.header('set-cookie', `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}`);
  }

  clearCookie(reply: FastifyReply): void {
    void reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
  }
}
