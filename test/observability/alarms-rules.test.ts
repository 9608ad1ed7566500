// Issue 14: the alarm rules file. A good file gives typed rules; a bad one is refused whole with
// every problem's line and cause (YAML syntax, unknown type, bad threshold or duration, unknown
// webhook, keys that do not apply).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RULES_YAML, defaultRules } from '../../src/observability/alarms/defaults.js';
import { formatDuration, parseDuration } from '../../src/observability/alarms/duration.js';
import { ALARM_TYPES, AlarmRulesError, parseAlarmRules, type RuleProblem } from '../../src/observability/alarms/rules.js';

const GOOD = `webhooks:
  - name: ops
    url: http://127.0.0.1:9093/hook
  - name: pager
    url: https://pager.example/hook
    sendResolved: false
    maxAttempts: 3
    backoff: 250ms
    timeout: 2s
rules:
  - name: orders-lag
    type: consumerLag
    group: GID_ORDERS        # group rules; omit for every group
    threshold: 1000
    for: 30s                 # must hold this long before firing
    notify: [ops]
  - name: old-messages
    type: consumerLagLatency
    topic: Orders
    threshold: 10m
    notify: ops
    labels: { severity: page }
  - name: dead
    type: dlqMessages
    threshold: 0
  - name: disk
    type: diskUsage
    threshold: 85.5
    for: 1h30m
    summary: the disk is filling
  - name: b
    type: brokerDown
    broker: broker-b
    notify: [ops, pager]
`;

/** The problems a text is refused with. */
function problems(text: string): RuleProblem[] {
  try {
    parseAlarmRules(text, 'alarms.yml');
  } catch (err) {
    assert.ok(err instanceof AlarmRulesError, String(err));
    assert.match(err.message, /^alarm rules file alarms\.yml is invalid:\n {2}alarms\.yml:\d+: /);
    return [...err.problems];
  }
  assert.fail('the text was accepted');
}

void test('alarms rules - the issue example and every field parse into rules', () => {
  const set = parseAlarmRules(GOOD, 'alarms.yml');
  assert.equal(set.source, 'alarms.yml');
  assert.deepEqual(
    set.webhooks.map((w) => [w.name, w.url, w.sendResolved, w.maxAttempts, w.backoffMs, w.timeoutMs, w.line]),
    [
      ['ops', 'http://127.0.0.1:9093/hook', true, 5, 1000, 5000, 2],
      ['pager', 'https://pager.example/hook', false, 3, 250, 2000, 4],
    ],
  );
  const [lag, latency, dlq, disk, down] = set.rules;
  assert.deepEqual({ ...lag }, { name: 'orders-lag', type: 'consumerLag', group: 'GID_ORDERS', threshold: 1000, forMs: 30_000, windowMs: undefined, notify: ['ops'], labels: {}, summary: undefined, line: 11 });
  assert.equal(latency.threshold, 600, 'a duration threshold is seconds');
  assert.equal(latency.topic, 'Orders');
  assert.equal(latency.group, undefined);
  assert.deepEqual(latency.notify, ['ops']);
  assert.deepEqual(latency.labels, { severity: 'page' });
  assert.equal(latency.forMs, 0, '`for` defaults to 0');
  assert.equal(dlq.windowMs, 300_000, 'dlqMessages judges growth over 5m by default');
  assert.equal(disk.threshold, 85.5);
  assert.equal(disk.forMs, 5_400_000);
  assert.equal(disk.summary, 'the disk is filling');
  assert.equal(down.broker, 'broker-b');
  assert.equal(down.threshold, 0);
  assert.deepEqual(down.notify, ['ops', 'pager']);
});

void test('alarms rules - an empty file is no rules; the defaults cover every type', () => {
  assert.deepEqual(parseAlarmRules('', 'x').rules, []);
  assert.deepEqual(parseAlarmRules('# nothing yet\n', 'x').rules, []);
  assert.deepEqual(parseAlarmRules('rules:\n', 'x').rules, []);
  const d = defaultRules();
  assert.equal(d.source, 'defaults');
  assert.deepEqual(new Set(d.rules.map((r) => r.type)), new Set(ALARM_TYPES));
  assert.ok(d.rules.every((r) => r.notify.length === 0), 'defaults notify the log only');
  assert.match(DEFAULT_RULES_YAML, /type: consumerLag/);
});

void test('alarms rules - YAML syntax errors name their line', () => {
  assert.deepEqual(problems('rules:\n  - name: a\n   type: x\n  - name: b\n'), [{ line: 3, message: 'YAML: Sequence item without - indicator' }]);
  assert.deepEqual(problems('webhooks:\n  - name: ops\n    url: http://x\n\trules: 1\n'), [{ line: 4, message: 'YAML: Tabs are not allowed as indentation' }]);
  // An unclosed bracket is found at the end of the input: reported on the last line, not past it.
  const p = problems('rules:\n  - name: a\n    type: consumerLag\n    threshold: [1\n');
  assert.equal(p[0].line, 4);
  assert.match(p[0].message, /^YAML: Flow sequence .* must .* end with a \]/);
  const dup = problems('rules:\n  - name: a\n    type: diskUsage\n    threshold: 1\n    threshold: 2\n');
  assert.equal(dup[0].line, 5);
  assert.match(dup[0].message, /YAML: Map keys must be unique/);
});

void test('alarms rules - bad input: each problem names its line and cause, all reported together', () => {
  const text = `webhooks:
  - name: ops
    url: ftp://example/hook
rules:
  - name: a
    type: consumerlag
    threshold: 10
  - name: b
    type: consumerLag
    threshold: -1
    for: 30
  - name: c
    type: diskUsage
    threshold: 101
    for: soon
  - name: d
    type: dlqMessages
    threshold: 1
    notify: [ops, nobody]
  - name: e
    type: diskUsage
    group: G
    threshold: 50
    treshold: 60
  - name: f
    type: brokerDown
    threshold: 1
  - name: a
    type: halfMessages
  - name: "bad name"
    type: sendFailures
    threshold: 1
    window: 0s
    labels: { alertname: x, "1bad": y }
`;
  const p = problems(text);
  const at = (line: number): string[] => p.filter((x) => x.line === line).map((x) => x.message);
  assert.match(at(3).join(), /webhook #1: url "ftp:\/\/example\/hook" is not an http:\/\/ or https:\/\/ URL/);
  assert.match(at(6).join(), /rule "a": unknown type "consumerlag" \(expected one of consumerLag, consumerLagLatency, /);
  assert.match(at(10).join(), /rule "b": threshold \(messages\) must be an integer 0\.\.\d+, got -1/);
  assert.match(at(11).join(), /rule "b": for must be a duration like 30s, 5m or 1h30m, got 30/);
  assert.match(at(14).join(), /rule "c": threshold \(percent of the disk\) must be a number 0\.\.100, got 101/);
  assert.match(at(15).join(), /rule "c": for must be a duration .* got "soon"/);
  // ops is named, though its url is wrong: only "nobody" is unknown.
  assert.deepEqual(at(19), ['rule "d": notify names unknown webhook "nobody" (webhooks: ops)']);
  assert.match(at(22).join(), /rule "e": "group" does not apply to type diskUsage/);
  assert.match(at(24).join(), /unknown key "treshold" in rule "e"/);
  assert.match(at(27).join(), /rule "f": type brokerDown takes no threshold/);
  assert.match(at(28).join(), /rule "a" has no threshold/);
  assert.match(at(28).join(), /rule name "a" is used twice/);
  assert.match(at(30).join(), /rule #8: name "bad name" may hold only letters/);
  assert.match(at(33).join(), /window must be a duration like 30s, 5m or 1h30m above 0, got "0s"/);
  assert.match(at(34).join(), /label "alertname" is set by the alarm itself/);
  assert.match(at(34).join(), /label name "1bad" must match/);
  assert.deepEqual(
    p.map((x) => x.line),
    [...p.map((x) => x.line)].sort((a, b) => a - b),
    'in file order',
  );
});

void test('alarms rules - a webhook that is not in the file cannot be notified, even if its name is close', () => {
  const p = problems('webhooks:\n  - name: ops\n    url: http://h/x\nrules:\n  - name: r\n    type: diskUsage\n    threshold: 90\n    notify: [Ops]\n');
  assert.deepEqual(p, [{ line: 8, message: 'rule "r": notify names unknown webhook "Ops" (webhooks: ops)' }]);
});

void test('alarms rules - the top level and the lists must have their shape', () => {
  assert.match(problems('- a\n- b\n')[0].message, /the file must be a mapping/);
  assert.match(problems('rules: 3\n')[0].message, /rules must be a list/);
  assert.match(problems('rule:\n  - name: x\n')[0].message, /unknown key "rule" in the file \(allowed: webhooks, rules\)/);
  assert.match(problems('rules:\n  - just a string\n')[0].message, /rule #1 must be a mapping/);
});

void test('alarms rules - durations', () => {
  for (const [s, ms] of [['30s', 30_000], ['250ms', 250], ['1h30m', 5_400_000], ['1.5s', 1500], ['0', 0], ['0s', 0], ['2d', 172_800_000]] as const) {
    assert.equal(parseDuration(s), ms, s);
  }
  for (const bad of ['', '30', 's', '5 m', '1x', '-1s', '1s2', 400 * 86_400_000 + 'ms', null, 30]) assert.equal(parseDuration(bad), undefined, String(bad));
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(0), '0s');
});
