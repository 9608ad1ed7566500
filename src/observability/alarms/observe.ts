// Turns a rule and the broker's view into observations, one per scope. A round shares view reads
// between rules (two lag rules read a group's offsets once); windowed types keep counter samples
// across rounds; brokerDown remembers every broker it has seen listed.
import { CounterWindow } from './counter-window.js';
import { formatDuration } from './duration.js';
import type { Observation } from './evaluator.js';
import type { AlarmRule } from './rules.js';
import type { AlarmView, BrokerEntry, TopicProgress } from './view.js';

/** The view reads of one evaluation round, shared by its rules. */
export class Round {
  private readonly memo = new Map<string, Promise<unknown>>();
  constructor(readonly now: number) {}

  once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let p = this.memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = read();
      this.memo.set(key, p);
    }
    return p;
  }
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
/** Types about consumption and transactions, which a slave only mirrors. */
const MASTER_ONLY: ReadonlySet<AlarmRule['type']> = new Set(['consumerLag', 'consumerLagLatency', 'dlqMessages', 'halfMessages']);
const round3 = (n: number): number => Math.round(n * 1000) / 1000;

export class Observer {
  /** Counter samples per rule name, then per scope key. */
  private readonly windows = new Map<string, Map<string, CounterWindow>>();
  /** Brokers the name servers have listed since the engine started, by "name/id". */
  private readonly seenBrokers = new Map<string, BrokerEntry>();

  constructor(private readonly view: AlarmView) {}

  /** Forgets what a removed rule sampled. */
  forget(ruleName: string): void {
    this.windows.delete(ruleName);
  }

  /** Observations of the rule this round; undefined when it cannot tell (nothing answered). */
  async observe(rule: AlarmRule, round: Round): Promise<Observation[] | undefined> {
    if (MASTER_ONLY.has(rule.type) && !this.view.isMaster()) return [];
    switch (rule.type) {
      case 'consumerLag':
      case 'consumerLagLatency':
        return this.lag(rule, round);
      case 'dlqMessages':
        return this.dlq(rule, round.now);
      case 'diskUsage':
        return this.disk(rule);
      case 'sendFailures':
        return this.sendFailures(rule, round.now);
      case 'brokerDown':
        return this.brokerDown(rule, round);
      case 'replicationLag':
        return this.replication(rule);
      case 'halfMessages':
        return this.half(rule, round);
    }
  }

  /** Broker-wide alarms name the member, since a master and its slaves share the broker name. */
  private self(): Record<string, string> {
    return { brokerId: String(this.view.brokerId) };
  }

  private groupsOf(rule: AlarmRule): string[] {
    return rule.group !== undefined ? [rule.group] : this.view.groups();
  }

  private async lag(rule: AlarmRule, round: Round): Promise<Observation[]> {
    const withAge = rule.type === 'consumerLagLatency';
    const extra = rule.topic !== undefined ? [rule.topic] : [];
    const out: Observation[] = [];
    for (const group of this.groupsOf(rule)) {
      const progress = await round.once(`progress|${group}|${extra.join()}|${withAge}`, () => this.view.progress(group, extra, withAge));
      for (const p of progress) {
        if (rule.topic !== undefined && p.topic !== rule.topic) continue;
        out.push(withAge ? latencyObservation(rule, group, p) : lagObservation(rule, group, p));
      }
    }
    return out;
  }

  /** The window's counter for a scope; windows of scopes no longer observed are dropped. */
  private sample(rule: AlarmRule, samples: ReadonlyMap<string, number>, now: number): Map<string, { delta: number; spanMs: number }> {
    const old = this.windows.get(rule.name) ?? new Map<string, CounterWindow>();
    const next = new Map<string, CounterWindow>();
    const out = new Map<string, { delta: number; spanMs: number }>();
    for (const [key, v] of samples) {
      const w = old.get(key) ?? new CounterWindow();
      w.add(now, v);
      next.set(key, w);
      out.set(key, w.increase(now, rule.windowMs ?? 0));
    }
    this.windows.set(rule.name, next);
    return out;
  }

  private dlq(rule: AlarmRule, now: number): Observation[] {
    const counts = new Map<string, number>();
    for (const group of this.groupsOf(rule)) counts.set(group, this.view.dlqMessages(group));
    const window = formatDuration(rule.windowMs ?? 0);
    return [...this.sample(rule, counts, now)].map(([group, { delta }]) => ({
      key: `group=${group}`,
      labels: { group },
      value: delta,
      active: delta > rule.threshold,
      summary: `${delta} new dead letter${delta === 1 ? '' : 's'} in %DLQ%${group} over the last ${window} (threshold ${rule.threshold})`,
    }));
  }

  private disk(rule: AlarmRule): Observation[] {
    const pct = round1(this.view.diskUsagePercent());
    return [{ key: 'disk', labels: this.self(), value: pct, active: pct > rule.threshold, summary: `the store's disk on ${this.view.brokerName} is ${pct}% full (threshold ${rule.threshold}%)` }];
  }

  private sendFailures(rule: AlarmRule, now: number): Observation[] {
    const [[, { delta, spanMs }]] = [...this.sample(rule, new Map([['sends', this.view.sendFailuresTotal()]]), now)];
    const rate = spanMs > 0 ? round3((delta * 1000) / spanMs) : 0;
    return [
      {
        key: 'sends',
        labels: this.self(),
        value: rate,
        active: rate > rule.threshold,
        summary: `${this.view.brokerName} refused ${rate} sends per second over the last ${formatDuration(spanMs)} (threshold ${rule.threshold}/s)`,
      },
    ];
  }

  private async brokerDown(rule: AlarmRule, round: Round): Promise<Observation[] | undefined> {
    const listed = await round.once('brokers', () => this.view.brokers());
    if (!listed) return undefined;
    const present = new Set<string>();
    for (const b of listed) {
      const id = `${b.brokerName}/${b.brokerId}`;
      present.add(id);
      this.seenBrokers.set(id, b);
    }
    const expected = [...this.seenBrokers.entries()].filter(([, b]) => rule.broker === undefined || b.brokerName === rule.broker);
    // A broker named by the rule is expected even if it was never listed (its master, id 0).
    if (rule.broker !== undefined && expected.length === 0) {
      expected.push([`${rule.broker}/0`, { cluster: this.view.cluster, brokerName: rule.broker, brokerId: 0, addr: 'never listed' }]);
    }
    return expected.map(([id, b]) => {
      const missing = !present.has(id);
      return {
        key: `broker=${b.brokerName} brokerId=${b.brokerId}`,
        labels: { cluster: b.cluster, broker: b.brokerName, brokerId: String(b.brokerId) },
        value: missing ? 1 : 0,
        active: missing,
        summary: `broker ${b.brokerName} (id ${b.brokerId}, ${b.addr}) of cluster ${b.cluster} is missing from the name servers`,
      };
    });
  }

  private replication(rule: AlarmRule): Observation[] {
    return (this.view.replicationLag() ?? []).map((s) => ({
      key: `slaveId=${s.brokerId}`,
      labels: { brokerId: String(this.view.brokerId), slaveId: String(s.brokerId) },
      value: s.lagBytes,
      active: s.lagBytes > rule.threshold,
      summary: `slave ${s.brokerId} (${s.address}) of ${this.view.brokerName} is ${s.lagBytes} bytes behind its master (threshold ${rule.threshold})`,
    }));
  }

  private async half(rule: AlarmRule, round: Round): Promise<Observation[]> {
    const h = await round.once('half', () => this.view.halfMessages());
    const age = round1(h.oldestAgeMs / 1000);
    const count = `${h.count}${h.truncated ? '+' : ''}`;
    return [
      {
        key: 'half',
        labels: this.self(),
        value: age,
        active: h.count > 0 && age > rule.threshold,
        summary: `${count} undecided transaction half message(s) on ${this.view.brokerName}, the oldest ${age}s old (threshold ${rule.threshold}s)`,
      },
    ];
  }
}

function lagObservation(rule: AlarmRule, group: string, p: TopicProgress): Observation {
  return {
    key: `group=${group} topic=${p.topic}`,
    labels: { group, topic: p.topic },
    value: p.lag,
    active: p.lag > rule.threshold,
    summary: `consumer group ${group} is ${p.lag} message${p.lag === 1 ? '' : 's'} behind on topic ${p.topic} (threshold ${rule.threshold})`,
  };
}

function latencyObservation(rule: AlarmRule, group: string, p: TopicProgress): Observation {
  const age = round1(p.oldestAgeMs / 1000);
  return {
    key: `group=${group} topic=${p.topic}`,
    labels: { group, topic: p.topic },
    value: age,
    active: p.lag > 0 && age > rule.threshold,
    summary: `the oldest message of topic ${p.topic} not consumed by group ${group} is ${age}s old (threshold ${rule.threshold}s)`,
  };
}
