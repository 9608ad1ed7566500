// The rules in force when alarmRulesFile is not set: every type, thresholds an operator would
// start from, and no webhook (transitions go to the log). docs/ALARMS.md shows the same file.
import { parseAlarmRules, type AlarmRuleSet } from './rules.js';

export const DEFAULT_RULES_YAML = `rules:
  - name: consumer-lag
    type: consumerLag
    threshold: 10000        # messages behind, per group and topic
    for: 5m
  - name: consumer-lag-latency
    type: consumerLagLatency
    threshold: 600          # seconds the oldest unconsumed message has waited
    for: 5m
  - name: dlq-messages
    type: dlqMessages
    threshold: 0            # any new dead letter
    window: 10m
  - name: disk-usage
    type: diskUsage
    threshold: 85           # percent; writes are refused above diskSpaceWarningLevelRatio (90)
    for: 1m
  - name: send-failures
    type: sendFailures
    threshold: 1            # refused sends per second
    window: 1m
    for: 2m
  - name: broker-down
    type: brokerDown
    for: 1m
  - name: replication-lag
    type: replicationLag
    threshold: 268435456    # bytes (256 MiB) a slave is behind
    for: 5m
  - name: half-messages
    type: halfMessages
    threshold: 300          # seconds an undecided transaction has waited
    for: 1m
`;

export function defaultRules(): AlarmRuleSet {
  return parseAlarmRules(DEFAULT_RULES_YAML, 'defaults');
}
