// Alarm rules with notifications (issue 14): what the broker wiring and the admin command use.
export { AlarmEngine, readRulesFile, type AlarmEngineOptions, type LoadedRules } from './engine.js';
export { defaultRules, DEFAULT_RULES_YAML } from './defaults.js';
export { AlarmRulesError, ALARM_TYPES, parseAlarmRules, type AlarmRule, type AlarmRuleSet, type AlarmType, type RuleProblem, type WebhookConfig } from './rules.js';
export type { AlarmView, BrokerEntry, HalfMessages, ReplicaLag, TopicProgress } from './view.js';
export { GET_ALARM_LIST, type AlarmInstanceStatus, type AlarmListBody, type AlarmRuleStatus } from './alarm-status.js';
