// What a broker answers about its alarms (the body of GET_ALARM_LIST), read by
// `apogee admin alarmList`. JSON, like the other admin bodies.

/**
 * Apogee's own remoting request code for the alarm list. RocketMQ has no alarm request and no
 * reserved range for extensions; its codes stop at 3010 below the pop family (200050..200151),
 * so this one sits far from both.
 */
export const GET_ALARM_LIST = 880001;

export interface AlarmInstanceStatus {
  /** The alarm's scope labels ("group=G topic=T", "cluster=C broker=broker-b brokerId=0"); "" for broker-wide rules. */
  scope: string;
  state: 'ok' | 'pending' | 'firing';
  /** When the current state began (ms since the epoch). */
  since: number;
  /** The last value seen, in the rule type's unit; absent when the scope was not observed. */
  value?: number;
  firedAt?: number;
  lastResolvedAt?: number;
  summary: string;
}

export interface AlarmRuleStatus {
  name: string;
  type: string;
  /** The rule's own scope ("group=G", "every group", ...). */
  scope: string;
  threshold: number;
  forMs: number;
  windowMs?: number;
  notify: string[];
  alarms: AlarmInstanceStatus[];
}

export interface AlarmListBody {
  /** False when alarmEvaluateIntervalMs is 0. */
  enabled: boolean;
  cluster: string;
  brokerName: string;
  brokerAddr: string;
  /** The rules file, or "defaults". */
  source: string;
  loadedAt: number;
  evaluateIntervalMs: number;
  /** 0 before the first evaluation. */
  lastEvaluatedAt: number;
  /** The last change of the file that was refused (the rules before it stay in force). */
  reloadError?: { at: number; message: string };
  rules: AlarmRuleStatus[];
}
