// The alarm engine of one broker: evaluates every rule each interval against the broker's view,
// sends each transition to the log and to the rule's webhooks, and reloads the rules file when it
// changes (fs.watch plus a periodic stat, since watches miss some editors' rename-and-replace and
// some file systems). A file that fails to parse is refused whole and the rules in force stay.
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../../common/logger.js';
import type { AlarmListBody, AlarmRuleStatus } from './alarm-status.js';
import { RuleEvaluator, type Transition } from './evaluator.js';
import { Observer, Round } from './observe.js';
import { AlarmRulesError, parseAlarmRules, type AlarmRule, type AlarmRuleSet, type WebhookConfig } from './rules.js';
import type { AlarmView } from './view.js';
import { alertmanagerPayload, alertOf, WebhookSender, type AlertmanagerAlert, type FetchLike } from './webhook.js';

export interface AlarmEngineOptions {
  view: AlarmView;
  /** The rules in force at start (the caller refuses a bad file before starting anything). */
  rules: AlarmRuleSet;
  /** Watched and reloaded when set; absent for the default rules. */
  rulesFile?: string;
  /** The file as it was read for `rules` (read again when absent). */
  loaded?: Pick<LoadedRules, 'text' | 'stamp'>;
  evaluateIntervalMs: number;
  /** Period of the stat that backs fs.watch up. */
  reloadCheckMs?: number;
  logger: Logger;
  now?: () => number;
  fetch?: FetchLike;
}

export interface LoadedRules {
  readonly rules: AlarmRuleSet;
  readonly text: string;
  /** The file's stamp taken before the read: a change during the read shows as a later change. */
  readonly stamp: string;
}

/** Reads and parses a rules file; an unreadable file is an AlarmRulesError too. */
export function readRulesFile(file: string): LoadedRules {
  const stamp = stampOf(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AlarmRulesError(file, [{ line: 0, message: `cannot read the file: ${(err as Error).message}` }]);
  }
  return { text, rules: parseAlarmRules(text, file), stamp };
}

/** Changes when the file is rewritten or replaced. */
function stampOf(file: string): string {
  try {
    const s = statSync(file);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return 'missing';
  }
}

const sameScope = (a: AlarmRule, b: AlarmRule): boolean => a.type === b.type && a.group === b.group && a.topic === b.topic && a.broker === b.broker;
const sameWebhook = (a: WebhookConfig, b: WebhookConfig): boolean =>
  a.url === b.url && a.sendResolved === b.sendResolved && a.maxAttempts === b.maxAttempts && a.backoffMs === b.backoffMs && a.timeoutMs === b.timeoutMs;

function ruleScope(r: AlarmRule): string {
  const parts = (['group', 'topic', 'broker'] as const).filter((k) => r[k] !== undefined).map((k) => `${k}=${r[k]}`);
  if (parts.length > 0) return parts.join(' ');
  if (r.type === 'brokerDown') return 'every broker';
  if (r.type === 'replicationLag') return 'every slave';
  return r.type.startsWith('consumer') || r.type === 'dlqMessages' ? 'every group' : 'this broker';
}

interface Entry {
  rule: AlarmRule;
  ev: RuleEvaluator;
  /** The last observation error, logged once until it changes. */
  lastError?: string;
}

export class AlarmEngine {
  private rules: AlarmRuleSet;
  private entries = new Map<string, Entry>();
  private senders = new Map<string, WebhookSender>();
  private readonly retiring = new Set<WebhookSender>();
  private readonly observer: Observer;
  private readonly now: () => number;
  private readonly logger: Logger;
  private loadedAt = 0;
  private lastEvaluatedAt = 0;
  private reloadError: { at: number; message: string } | undefined;
  private appliedText: string | undefined;
  private fileStamp = 'missing';
  private timer: NodeJS.Timeout | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private reloadPending: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private evaluating: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: AlarmEngineOptions) {
    this.now = o.now ?? Date.now;
    this.logger = o.logger;
    this.observer = new Observer(o.view);
    this.rules = o.rules;
    this.apply(o.rules);
    if (o.rulesFile) {
      this.fileStamp = o.loaded?.stamp ?? stampOf(o.rulesFile);
      try {
        this.appliedText = o.loaded?.text ?? readFileSync(o.rulesFile, 'utf8');
      } catch {
        // read again on the next change
      }
    }
  }

  /** Evaluates now and every interval after; watches the rules file. */
  start(): void {
    const tick = (): void => {
      void this.evaluateNow().finally(() => {
        if (this.stopped) return;
        this.timer = setTimeout(tick, this.o.evaluateIntervalMs);
        this.timer.unref();
      });
    };
    tick();
    if (this.o.rulesFile) this.watchFile(resolve(this.o.rulesFile));
  }

  /** One evaluation of every rule; a call during one in progress waits for that one. */
  evaluateNow(): Promise<void> {
    this.evaluating ??= this.evaluate()
      .catch((err: unknown) => this.logger.error({ err }, 'alarm evaluation failed'))
      .finally(() => (this.evaluating = undefined));
    return this.evaluating;
  }

  private async evaluate(): Promise<void> {
    const round = new Round(this.now());
    for (const entry of [...this.entries.values()]) {
      let observed;
      try {
        observed = await this.observer.observe(entry.rule, round);
        entry.lastError = undefined;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (entry.lastError !== message) this.logger.warn({ err, alarm: entry.rule.name }, 'alarm rule could not be evaluated');
        entry.lastError = message;
      }
      if (this.stopped) return;
      // A reload during the read may have replaced the rule; its evaluator then starts afresh.
      if (this.entries.get(entry.rule.name) !== entry) continue;
      this.emit(entry.rule, entry.ev.step(round.now, entry.rule.forMs, observed));
    }
    this.lastEvaluatedAt = round.now;
  }

  /** Logs each transition and hands the rule's webhooks one notification per status. */
  private emit(rule: AlarmRule, transitions: readonly Transition[]): void {
    if (transitions.length === 0) return;
    const v = this.o.view;
    const alerts: AlertmanagerAlert[] = transitions.map((t) => {
      const labels = { alertname: rule.name, alarmtype: rule.type, cluster: v.cluster, broker: v.brokerName, ...t.labels, ...rule.labels };
      const summary = rule.summary ?? t.summary;
      const annotations = { summary, value: t.value === undefined ? '' : String(t.value), threshold: String(rule.threshold) };
      const fields = { alarm: rule.name, labels, value: t.value, startsAt: t.startsAt, endsAt: t.endsAt };
      if (t.status === 'firing') this.logger.warn(fields, `alarm firing: ${summary}`);
      else this.logger.info(fields, `alarm resolved: ${summary}`);
      return alertOf(t.status, labels, annotations, t.startsAt, t.endsAt);
    });
    for (const name of rule.notify) {
      const sender = this.senders.get(name);
      if (!sender) continue;
      for (const status of ['firing', 'resolved'] as const) {
        const some = alerts.filter((a) => a.status === status);
        if (some.length === 0 || (status === 'resolved' && !sender.config.sendResolved)) continue;
        sender.send(alertmanagerPayload(name, rule.name, some));
      }
    }
  }

  /**
   * Puts a rule set in force. A rule that keeps its name, type and scope keeps its alarms' state
   * (a new threshold or `for` applies from the next evaluation); a removed rule, or one whose
   * scope changed, resolves what it had firing, through the webhooks it was configured with.
   */
  private apply(set: AlarmRuleSet): void {
    const now = this.now();
    const byName = new Map(set.rules.map((r) => [r.name, r]));
    for (const [name, old] of this.entries) {
      const rule = byName.get(name);
      if (rule && sameScope(old.rule, rule)) continue;
      this.emit(old.rule, old.ev.resolveAll(now));
      this.observer.forget(name);
    }
    const entries = new Map<string, Entry>();
    for (const rule of set.rules) {
      const old = this.entries.get(rule.name);
      entries.set(rule.name, old && sameScope(old.rule, rule) ? { rule, ev: old.ev } : { rule, ev: new RuleEvaluator() });
    }
    this.entries = entries;
    const senders = new Map<string, WebhookSender>();
    for (const w of set.webhooks) {
      const old = this.senders.get(w.name);
      senders.set(w.name, old && sameWebhook(old.config, w) ? old : new WebhookSender(w, this.logger, this.o.fetch));
    }
    // A webhook that went away still delivers what it has queued (resolved notices above).
    for (const s of this.senders.values()) {
      if ([...senders.values()].includes(s)) continue;
      this.retiring.add(s);
      void s.idle().then(async () => {
        await s.close();
        this.retiring.delete(s);
      });
    }
    this.senders = senders;
    this.rules = set;
    this.loadedAt = now;
  }

  /**
   * Re-reads the rules file. Returns true when new rules were put in force; a file that cannot
   * be read or parsed is logged with its lines and causes, and the rules in force stay.
   */
  reload(): boolean {
    const file = this.o.rulesFile;
    if (!file || this.stopped) return false;
    let read;
    try {
      read = readRulesFile(file);
    } catch (err) {
      this.fileStamp = stampOf(file);
      const problems = err instanceof AlarmRulesError ? err.problems : [{ line: 0, message: String(err) }];
      const message = problems.map((p) => (p.line > 0 ? `line ${p.line}: ${p.message}` : p.message)).join('; ');
      this.reloadError = { at: this.now(), message };
      this.logger.error({ file, problems }, `alarm rules file refused, the rules in force stay: ${message}`);
      return false;
    }
    this.fileStamp = read.stamp;
    this.reloadError = undefined;
    if (read.text === this.appliedText) return false;
    this.apply(read.rules);
    this.appliedText = read.text;
    this.logger.info({ file, rules: read.rules.rules.length, webhooks: read.rules.webhooks.length }, 'alarm rules reloaded');
    return true;
  }

  private watchFile(file: string): void {
    try {
      // The folder, not the file: an editor that writes a new file and renames it over the old
      // one would leave a watch on the file looking at the old inode.
      this.watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
        if (!name || name === basename(file)) this.reloadSoon(file);
      });
      this.watcher.on('error', (err) => {
        this.logger.warn({ err, file }, 'watching the alarm rules file failed; the periodic check goes on');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.logger.warn({ err, file }, 'cannot watch the alarm rules file; it is checked periodically');
    }
    this.reloadTimer = setInterval(() => {
      if (stampOf(file) !== this.fileStamp) this.reloadSoon(file);
    }, this.o.reloadCheckMs ?? 1000);
    this.reloadTimer.unref();
  }

  /** A write arrives as several events (truncate, write): wait for them to settle. */
  private reloadSoon(file: string): void {
    if (this.reloadPending || this.stopped) return;
    this.reloadPending = setTimeout(() => {
      this.reloadPending = undefined;
      if (stampOf(file) !== this.fileStamp) this.reload();
    }, 100);
    this.reloadPending.unref();
  }

  /** What `apogee admin alarmList` shows. */
  status(): AlarmListBody {
    const v = this.o.view;
    const rules: AlarmRuleStatus[] = [...this.entries.values()].map(({ rule, ev }) => ({
      name: rule.name,
      type: rule.type,
      scope: ruleScope(rule),
      threshold: rule.threshold,
      forMs: rule.forMs,
      windowMs: rule.windowMs,
      notify: [...rule.notify],
      alarms: [...ev.instances.values()].map((i) => ({
        scope: Object.entries(i.labels)
          .map(([k, val]) => `${k}=${val}`)
          .join(' '),
        state: i.state,
        since: i.since,
        value: i.value,
        firedAt: i.firedAt,
        lastResolvedAt: i.lastResolvedAt,
        summary: i.summary,
      })),
    }));
    return {
      enabled: true,
      cluster: v.cluster,
      brokerName: v.brokerName,
      brokerAddr: v.brokerAddr,
      source: this.rules.source,
      loadedAt: this.loadedAt,
      evaluateIntervalMs: this.o.evaluateIntervalMs,
      lastEvaluatedAt: this.lastEvaluatedAt,
      reloadError: this.reloadError,
      rules,
    };
  }

  /** Resolves once every webhook has delivered or given up what is queued (tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.senders.values(), ...this.retiring].map((s) => s.idle()));
  }

  /** Stops evaluating and watching; notifications still queued are dropped (and logged). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.reloadTimer);
    clearTimeout(this.reloadPending);
    this.watcher?.close();
    await this.evaluating;
    await Promise.all([...this.senders.values(), ...this.retiring].map((s) => s.close()));
  }
}
