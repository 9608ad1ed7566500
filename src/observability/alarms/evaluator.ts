// The state machine of one rule's alarms, one instance per scope (group, topic, broker). Time is
// passed in, so tests drive it with a fake clock.
//
//   ok ──active──► pending ──active for `for`──► firing ──inactive for `for`──► ok (resolved)
//    ▲               │ inactive                   │  ▲ active again before `for`: still firing,
//    └───────────────┘ (never fired: no notice)   └──┘ nothing sent (no flapping)
//
// With `for` 0 an active observation fires at once and an inactive one resolves at once.

export type AlarmState = 'ok' | 'pending' | 'firing';

/** What a rule saw for one scope in one evaluation. */
export interface Observation {
  /** Identifies the scope within the rule ("group=G topic=T"). */
  readonly key: string;
  /** Scope labels (group, topic, broker, ...), merged into the alert's labels. */
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** The rule's condition holds (value above threshold, broker missing, ...). */
  readonly active: boolean;
  readonly summary: string;
}

export interface AlarmInstance {
  readonly key: string;
  labels: Readonly<Record<string, string>>;
  state: AlarmState;
  /** When the current state began (ms). */
  since: number;
  /** Start of the current active stretch (pending or firing). */
  activeAt?: number;
  firedAt?: number;
  /** While firing: since when the condition has been false. */
  inactiveSince?: number;
  lastResolvedAt?: number;
  /** The last value seen; undefined when the scope was not observed. */
  value?: number;
  /** The summary of the last active observation (what the alarm is about). */
  summary: string;
}

export interface Transition {
  readonly status: 'firing' | 'resolved';
  readonly key: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly summary: string;
  readonly value: number | undefined;
  /** When it started firing. */
  readonly startsAt: number;
  /** When it resolved; undefined while firing. */
  readonly endsAt: number | undefined;
}

export class RuleEvaluator {
  readonly instances = new Map<string, AlarmInstance>();

  /**
   * One evaluation at `now`. `observations` undefined means the rule could not tell this round
   * (e.g. no name server answered): nothing moves. A scope that was tracked and is no longer
   * observed (a group deleted) counts as inactive, so a firing alarm still resolves.
   */
  step(now: number, forMs: number, observations: readonly Observation[] | undefined): Transition[] {
    if (!observations) return [];
    const out: Transition[] = [];
    const seen = new Set<string>();
    for (const o of observations) {
      seen.add(o.key);
      let inst = this.instances.get(o.key);
      if (!inst) {
        inst = { key: o.key, labels: o.labels, state: 'ok', since: now, summary: o.summary };
        this.instances.set(o.key, inst);
      }
      inst.labels = o.labels;
      inst.value = o.value;
      if (o.active) inst.summary = o.summary;
      this.advance(inst, o.active, now, forMs, out);
    }
    for (const inst of [...this.instances.values()]) {
      if (seen.has(inst.key)) continue;
      inst.value = undefined;
      this.advance(inst, false, now, forMs, out);
      if (inst.state === 'ok') this.instances.delete(inst.key);
    }
    return out;
  }

  /** Resolves every firing instance now (the rule was removed or changed its scope). */
  resolveAll(now: number): Transition[] {
    const out: Transition[] = [];
    for (const inst of this.instances.values()) if (inst.state === 'firing') out.push(this.resolve(inst, now));
    this.instances.clear();
    return out;
  }

  private advance(inst: AlarmInstance, active: boolean, now: number, forMs: number, out: Transition[]): void {
    if (inst.state === 'firing') {
      if (active) {
        inst.inactiveSince = undefined;
        return;
      }
      inst.inactiveSince ??= now;
      if (now - inst.inactiveSince >= forMs) out.push(this.resolve(inst, now));
      return;
    }
    if (!active) {
      if (inst.state === 'pending') {
        inst.state = 'ok';
        inst.since = now;
        inst.activeAt = undefined;
      }
      return;
    }
    if (inst.state === 'ok') {
      inst.state = 'pending';
      inst.since = now;
      inst.activeAt = now;
    }
    if (now - inst.activeAt! >= forMs) {
      inst.state = 'firing';
      inst.since = now;
      inst.firedAt = now;
      inst.inactiveSince = undefined;
      out.push(snapshot(inst, 'firing', undefined));
    }
  }

  private resolve(inst: AlarmInstance, now: number): Transition {
    inst.state = 'ok';
    inst.since = now;
    inst.activeAt = undefined;
    inst.inactiveSince = undefined;
    inst.lastResolvedAt = now;
    return snapshot(inst, 'resolved', now);
  }
}

function snapshot(inst: AlarmInstance, status: Transition['status'], endsAt: number | undefined): Transition {
  return { status, key: inst.key, labels: inst.labels, summary: inst.summary, value: inst.value, startsAt: inst.firedAt ?? inst.since, endsAt };
}
