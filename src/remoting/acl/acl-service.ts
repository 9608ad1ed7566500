// ACL of one server (broker, name server or `apogee proxy`): holds the accounts of plain_acl.yml,
// reloads them when the file changes (a bad edit is logged and the previous accounts stay), checks
// every remoting request through a request hook (gRPC: src/proxy/grpc-acl-hook.ts), counts and
// logs refusals, and on brokers answers mqadmin's ACL 1.0 commands (codes 50-54).
import { readFileSync, renameSync, statSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import type { Logger } from '../../common/logger.js';
import {
  createResponse,
  RequestCode,
  ResponseCode,
  type RemotingCommand,
  type RemotingServer,
  type RequestHook,
} from '../index.js';
import {
  AclConfigError,
  checkAddressPattern,
  formatPlainAcl,
  hostOf,
  parsePerm,
  permName,
  parsePlainAcl,
  Perm,
  type PlainAccount,
  type PlainAclConfig,
} from './plain-acl-config.js';
import { PlainAccessValidator, type AccessRequest, type Denial } from './plain-access-validator.js';
import { remotingAccess } from './remoting-access.js';

/** Reads what a remoting request asks for: the broker's mapping by default, the name server's for it. */
export type RemotingAccessOf = (cmd: RemotingCommand, host: string) => AccessRequest;

export interface AclServiceOptions {
  /** plain_acl.yml */
  file: string;
  logger: Logger;
  /** How often the file's modification time is looked at (ms). */
  reloadCheckMs?: number;
  /** Identity answered by GET_BROKER_CLUSTER_ACL_INFO. */
  brokerName?: string;
  clusterName?: string;
}

/** Refusal counts since start, by protocol and kind (for logs, tests and metrics). */
export interface AclCounters {
  checked: number;
  refused: { remoting: number; grpc: number };
  unauthenticated: number;
  forbidden: number;
  reloads: number;
  reloadFailures: number;
}

/** At most this many refusal lines per second reach the log; the counters keep the rest. */
const LOG_PER_SECOND = 20;

export class AclService {
  private validatorNow: PlainAccessValidator;
  private mtimeMs = 0;
  private version = { timestamp: Date.now(), counter: 0 };
  private logWindow = 0;
  private loggedInWindow = 0;
  private watching = false;
  /** Why the last reload was refused; undefined after a good one. */
  lastReloadError: string | undefined;
  readonly counters: AclCounters = { checked: 0, refused: { remoting: 0, grpc: 0 }, unauthenticated: 0, forbidden: 0, reloads: 0, reloadFailures: 0 };

  private constructor(
    private readonly opts: AclServiceOptions,
    config: PlainAclConfig,
  ) {
    this.validatorNow = new PlainAccessValidator(config);
  }

  /** Reads the file; throws (AclConfigError with file and line, or a read error naming the file) when it is unusable. */
  static open(opts: AclServiceOptions): AclService {
    const { config, mtimeMs } = AclService.read(opts.file);
    const s = new AclService(opts, config);
    s.mtimeMs = mtimeMs;
    return s;
  }

  private static read(file: string): { config: PlainAclConfig; mtimeMs: number } {
    let text: string;
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new AclConfigError(file, 0, `cannot read the ACL file (${code}); aclEnable=true needs it (aclConfigFile)`);
    }
    return { config: parsePlainAcl(text, file), mtimeMs };
  }

  get file(): string {
    return this.opts.file;
  }

  get validator(): PlainAccessValidator {
    return this.validatorNow;
  }

  /** dataVersion of the accounts, bumped by every reload. */
  get dataVersion(): { timestamp: number; counter: number } {
    return { ...this.version };
  }

  /** Starts polling the file's modification time; a change is applied within reloadCheckMs. */
  watch(): void {
    if (this.watching) return;
    this.watching = true;
    watchFile(this.opts.file, { interval: this.opts.reloadCheckMs ?? 1000, persistent: false }, (cur) => {
      if (cur.mtimeMs !== this.mtimeMs) this.reload();
    });
  }

  close(): void {
    if (this.watching) unwatchFile(this.opts.file);
    this.watching = false;
  }

  /** Re-reads the file now; returns false (and keeps the accounts) when it is malformed. */
  reload(): boolean {
    try {
      const { config, mtimeMs } = AclService.read(this.opts.file);
      this.mtimeMs = mtimeMs;
      this.apply(config);
      this.opts.logger.info({ file: this.opts.file, accounts: config.accounts.length }, 'ACL accounts reloaded');
      return true;
    } catch (err) {
      this.counters.reloadFailures++;
      this.lastReloadError = err instanceof Error ? err.message : String(err);
      try {
        this.mtimeMs = statSync(this.opts.file).mtimeMs;
      } catch {
        // a deleted file is retried when it appears again
      }
      this.opts.logger.error({ file: this.opts.file, cause: this.lastReloadError }, 'ACL file refused; the previous accounts stay in force');
      return false;
    }
  }

  private apply(config: PlainAclConfig): void {
    this.validatorNow = new PlainAccessValidator(config);
    this.version = { timestamp: Date.now(), counter: this.version.counter + 1 };
    this.counters.reloads++;
    this.lastReloadError = undefined;
  }

  /** Checks one request; counts and logs a refusal. */
  check(r: AccessRequest, protocol: 'remoting' | 'grpc'): Denial | undefined {
    this.counters.checked++;
    const d = this.validatorNow.validate(r);
    if (!d) return undefined;
    this.counters.refused[protocol]++;
    if (d.kind === 'unauthenticated') this.counters.unauthenticated++;
    else this.counters.forbidden++;
    this.logRefusal(d, r.host, protocol);
    return d;
  }

  private logRefusal(d: Denial, host: string, protocol: string): void {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.logWindow) {
      if (this.loggedInWindow > LOG_PER_SECOND) {
        this.opts.logger.warn({ dropped: this.loggedInWindow - LOG_PER_SECOND }, 'ACL refusals not logged (rate limit)');
      }
      this.logWindow = second;
      this.loggedInWindow = 0;
    }
    if (++this.loggedInWindow <= LOG_PER_SECOND) this.opts.logger.warn({ peer: host, protocol, accessKey: d.accessKey, kind: d.kind }, `ACL refused: ${d.message}`);
  }

  /** The hook that checks every remoting request before its processor. */
  remotingHook(accessOf: RemotingAccessOf = remotingAccess): RequestHook {
    return {
      before: (ctx) => {
        const d = this.check(accessOf(ctx.request, hostOf(ctx.channel.remoteAddress)), 'remoting');
        return d ? { code: ResponseCode.NO_PERMISSION, remark: d.message } : undefined;
      },
    };
  }

  /** Registers the ACL 1.0 admin commands (mqadmin updateAclConfig and friends). */
  registerProcessors(server: RemotingServer, brokerAddr: () => string): void {
    server.registerProcessor(RequestCode.UPDATE_AND_CREATE_ACL_CONFIG, (req) => this.updateAccount(req));
    server.registerProcessor(RequestCode.DELETE_ACL_CONFIG, (req) => this.deleteAccount(req));
    server.registerProcessor(RequestCode.UPDATE_GLOBAL_WHITE_ADDRS_CONFIG, (req) => this.updateGlobalWhite(req));
    server.registerProcessor(RequestCode.GET_BROKER_CLUSTER_ACL_INFO, () => this.versionInfo(brokerAddr()));
    server.registerProcessor(RequestCode.GET_BROKER_CLUSTER_ACL_CONFIG, () => this.configBody());
  }

  private versionInfo(brokerAddr: string): RemotingCommand {
    const v = JSON.stringify(this.version);
    return createResponse(ResponseCode.SUCCESS, undefined, {
      version: v,
      brokerName: this.opts.brokerName ?? '',
      brokerAddr,
      clusterName: this.opts.clusterName ?? '',
      allAclFileVersion: JSON.stringify({ [this.opts.file]: this.version }),
    });
  }

  private configBody(): RemotingCommand {
    const c = this.validatorNow.config;
    const body = {
      globalWhiteAddrs: c.globalWhiteRemoteAddresses,
      // Secrets never leave the broker through this command.
      plainAccessConfigs: c.accounts.map((a) => ({ ...accountJson(a), secretKey: '' })),
    };
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify(body)));
  }

  private updateAccount(req: RemotingCommand): RemotingCommand {
    const e = req.extFields;
    const accessKey = (e.accessKey ?? '').trim();
    const current = this.validatorNow.config;
    const old = current.accounts.find((a) => a.accessKey === accessKey);
    const perms = (field: string, fallback: Map<string, number> | undefined): Map<string, number> | string => {
      if (e[field] === undefined) return fallback ?? new Map();
      const out = new Map<string, number>();
      for (const entry of e[field].split(',').map((s) => s.trim()).filter(Boolean)) {
        const eq = entry.lastIndexOf('=');
        const bits = eq > 0 ? parsePerm(entry.slice(eq + 1)) : undefined;
        if (bits === undefined) return `${field}: "${entry}": expected name=PUB|SUB|PUB|SUB|DENY`;
        out.set(entry.slice(0, eq).trim(), bits);
      }
      return out;
    };
    const perm = (field: string, fallback: number | undefined): number | string => {
      if (e[field] === undefined || e[field] === '') return fallback ?? Perm.DENY;
      return parsePerm(e[field]) ?? `${field}: expected PUB, SUB, PUB|SUB or DENY, got "${e[field]}"`;
    };
    const topicPerms = perms('topicPerms', old?.topicPerms);
    const groupPerms = perms('groupPerms', old?.groupPerms);
    const defaultTopicPerm = perm('defaultTopicPerm', old?.defaultTopicPerm);
    const defaultGroupPerm = perm('defaultGroupPerm', old?.defaultGroupPerm);
    const secretKey = (e.secretKey ?? old?.secretKey ?? '').trim();
    const white = e.whiteRemoteAddress !== undefined ? e.whiteRemoteAddress.trim() : (old?.whiteRemoteAddress ?? '');
    for (const bad of [topicPerms, groupPerms, defaultTopicPerm, defaultGroupPerm]) {
      if (typeof bad === 'string') return createResponse(ResponseCode.SYSTEM_ERROR, `updateAclConfig refused: ${bad}`);
    }
    if (accessKey.length < 6) return createResponse(ResponseCode.SYSTEM_ERROR, `updateAclConfig refused: accessKey "${accessKey}" is shorter than 6 characters`);
    if (secretKey.length < 6) return createResponse(ResponseCode.SYSTEM_ERROR, `updateAclConfig refused: secretKey of ${accessKey} is missing or shorter than 6 characters`);
    const badWhite = white ? checkAddressPattern(white) : undefined;
    if (badWhite) return createResponse(ResponseCode.SYSTEM_ERROR, `updateAclConfig refused: whiteRemoteAddress "${white}": ${badWhite}`);
    const account: PlainAccount = {
      accessKey,
      secretKey,
      whiteRemoteAddress: white,
      admin: e.admin !== undefined ? e.admin.trim().toLowerCase() === 'true' : (old?.admin ?? false),
      defaultTopicPerm: defaultTopicPerm as number,
      defaultGroupPerm: defaultGroupPerm as number,
      topicPerms: topicPerms as Map<string, number>,
      groupPerms: groupPerms as Map<string, number>,
    };
    const accounts = old ? current.accounts.map((a) => (a === old ? account : a)) : [...current.accounts, account];
    return this.write({ ...current, accounts }, `updateAclConfig ${accessKey}`);
  }

  private deleteAccount(req: RemotingCommand): RemotingCommand {
    const accessKey = (req.extFields.accessKey ?? '').trim();
    const current = this.validatorNow.config;
    if (!current.accounts.some((a) => a.accessKey === accessKey)) {
      return createResponse(ResponseCode.SYSTEM_ERROR, `deleteAclConfig refused: no ACL account for accessKey ${accessKey}`);
    }
    return this.write({ ...current, accounts: current.accounts.filter((a) => a.accessKey !== accessKey) }, `deleteAclConfig ${accessKey}`);
  }

  private updateGlobalWhite(req: RemotingCommand): RemotingCommand {
    const list = (req.extFields.globalWhiteAddrs ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    for (const a of list) {
      const bad = checkAddressPattern(a);
      if (bad) return createResponse(ResponseCode.SYSTEM_ERROR, `updateGlobalWhiteAddr refused: "${a}": ${bad}`);
    }
    return this.write({ ...this.validatorNow.config, globalWhiteRemoteAddresses: list }, 'updateGlobalWhiteAddr');
  }

  /** Writes the file (temp + rename) and applies it at once, not at the next poll. */
  private write(config: PlainAclConfig, what: string): RemotingCommand {
    const tmp = `${this.opts.file}.tmp`;
    try {
      writeFileSync(tmp, formatPlainAcl(config));
      renameSync(tmp, this.opts.file);
      this.mtimeMs = statSync(this.opts.file).mtimeMs;
    } catch (err) {
      return createResponse(ResponseCode.SYSTEM_ERROR, `${what} failed: cannot write ${this.opts.file}: ${(err as Error).message}`);
    }
    this.apply(config);
    this.opts.logger.info({ file: this.opts.file }, `ACL file rewritten by ${what}`);
    return createResponse(ResponseCode.SUCCESS);
  }
}

function accountJson(a: PlainAccount): Record<string, unknown> {
  const name = permName;
  return {
    accessKey: a.accessKey,
    secretKey: a.secretKey,
    whiteRemoteAddress: a.whiteRemoteAddress,
    admin: a.admin,
    defaultTopicPerm: name(a.defaultTopicPerm),
    defaultGroupPerm: name(a.defaultGroupPerm),
    topicPerms: [...a.topicPerms].map(([t, p]) => `${t}=${name(p)}`),
    groupPerms: [...a.groupPerms].map(([g, p]) => `${g}=${name(p)}`),
  };
}
