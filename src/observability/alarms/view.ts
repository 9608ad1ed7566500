// What the alarm engine reads from the broker it runs in: plain callbacks, so the engine stays
// below the broker layer (the broker implements this in src/broker/alarm-view.ts) and tests can
// hand it a scripted view.

/** A consumer group's progress on one topic of this broker. */
export interface TopicProgress {
  readonly topic: string;
  /** Messages stored and not yet consumed (committed), over every queue of the topic. */
  readonly lag: number;
  /**
   * Age in ms of the oldest unconsumed message (now minus its store time), over every queue;
   * 0 when nothing is unconsumed. Only filled when asked for (it costs a read per lagging queue).
   */
  readonly oldestAgeMs: number;
}

/** A broker as the name servers list it. */
export interface BrokerEntry {
  readonly cluster: string;
  readonly brokerName: string;
  readonly brokerId: number;
  readonly addr: string;
}

/** One slave of this broker (a master), and how far behind the master's commit log it is. */
export interface ReplicaLag {
  readonly brokerId: number;
  readonly address: string;
  readonly lagBytes: number;
}

export interface HalfMessages {
  /** Undecided transaction half messages (above the check cursor). */
  readonly count: number;
  /** Age in ms of the oldest undecided one by its born time; 0 when there is none. */
  readonly oldestAgeMs: number;
  /** True when the scan stopped at its bound before the end of the half queue. */
  readonly truncated: boolean;
}

export interface AlarmView {
  readonly cluster: string;
  readonly brokerName: string;
  readonly brokerId: number;
  /** "ip:port"; known once the broker listens. */
  readonly brokerAddr: string;
  /**
   * Whether this broker is its group's master now. Consumer-side rules run on masters only: a
   * slave holds a copy of the master's offsets and would report every lag alarm a second time.
   */
  isMaster(): boolean;
  /** Consumer groups this broker knows (configured or online), system groups left out. */
  groups(): string[];
  /**
   * Progress of a group on each topic it has committed offsets on or subscribes to now, plus
   * `extraTopics` (a rule's topic: a group that never consumed still lags behind it; a queue
   * without a committed offset counts from its first kept message).
   */
  progress(group: string, extraTopics: readonly string[], withAge: boolean): Promise<TopicProgress[]>;
  /** Dead letters stored for the group so far (%DLQ%<group>); only its growth matters. */
  dlqMessages(group: string): number;
  /** Percent of the store's disk in use, 0..100. */
  diskUsagePercent(): number;
  /** Refused sends since the broker started (a counter; the engine turns it into a rate). */
  sendFailuresTotal(): number;
  /** Every broker the answering name servers list; undefined when none answered. */
  brokers(): Promise<BrokerEntry[] | undefined>;
  /** This master's slaves; undefined on a slave or where replication is not running. */
  replicationLag(): ReplicaLag[] | undefined;
  halfMessages(): Promise<HalfMessages>;
}
