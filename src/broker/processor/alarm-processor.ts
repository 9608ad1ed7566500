// GET_ALARM_LIST (Apogee's own code, see src/observability/alarms/alarm-status.ts): the broker's
// alarm rules and the state of each alarm, for `apogee admin alarmList`.
//
// The dispatch table is built with the broker's parts before the alarm engine starts (the engine
// needs the listening address and the started services), so the engine is attached afterwards,
// keyed by the broker's store: one store, one broker.
import { createResponse, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import type { AlarmListBody } from '../../observability/alarms/index.js';
import type { BrokerParts } from '../broker-parts.js';

export interface AlarmStatusSource {
  status(): AlarmListBody;
}

const sources = new WeakMap<object, AlarmStatusSource>();

/** Makes the broker owning `store` answer GET_ALARM_LIST from `source` (undefined: detach). */
export function attachAlarmStatus(store: object, source: AlarmStatusSource | undefined): void {
  if (source) sources.set(store, source);
  else sources.delete(store);
}

export class AlarmProcessor {
  constructor(private readonly broker: Pick<BrokerParts, 'config' | 'store' | 'brokerAddr'>) {}

  readonly process = (_req: RemotingCommand): RemotingCommand => {
    const b = this.broker;
    const body: AlarmListBody = sources.get(b.store)?.status() ?? {
      enabled: false,
      cluster: b.config.brokerClusterName,
      brokerName: b.config.brokerName,
      brokerAddr: b.brokerAddr,
      source: b.config.alarmRulesFile || 'defaults',
      loadedAt: 0,
      evaluateIntervalMs: b.config.alarmEvaluateIntervalMs,
      lastEvaluatedAt: 0,
      rules: [],
    };
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify(body)));
  };
}
