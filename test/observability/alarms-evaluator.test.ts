// Issue 14: the alarm state machine with a fake clock — pending until `for` has passed, firing
// once, no flapping while the condition comes and goes within `for`, resolved after it has been
// false for `for`, with the timestamps a webhook gets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RuleEvaluator, type Observation } from '../../src/observability/alarms/evaluator.js';
import { CounterWindow } from '../../src/observability/alarms/counter-window.js';

const obs = (active: boolean, value = active ? 10 : 0, key = 'group=G topic=T'): Observation => ({
  key,
  labels: { group: 'G', topic: 'T' },
  value,
  active,
  summary: active ? `lag ${value}` : 'fine',
});

void test('alarms evaluator - pending until `for` has passed, then firing once with startsAt', () => {
  const ev = new RuleEvaluator();
  const FOR = 30_000;
  assert.deepEqual(ev.step(0, FOR, [obs(false)]), []);
  assert.equal(ev.instances.get('group=G topic=T')?.state, 'ok');
  assert.deepEqual(ev.step(1000, FOR, [obs(true)]), []);
  const inst = ev.instances.get('group=G topic=T')!;
  assert.equal(inst.state, 'pending');
  assert.equal(inst.since, 1000);
  assert.deepEqual(ev.step(30_999, FOR, [obs(true)]), [], 'one ms short of `for`');
  assert.equal(inst.state, 'pending');
  const fired = ev.step(31_000, FOR, [obs(true, 12)]);
  assert.equal(fired.length, 1);
  assert.deepEqual(fired[0], { status: 'firing', key: 'group=G topic=T', labels: { group: 'G', topic: 'T' }, summary: 'lag 12', value: 12, startsAt: 31_000, endsAt: undefined });
  assert.equal(inst.state, 'firing');
  assert.deepEqual(ev.step(40_000, FOR, [obs(true)]), [], 'still firing: nothing new to send');
});

void test('alarms evaluator - a condition that drops before `for` never fires (pending goes back to ok)', () => {
  const ev = new RuleEvaluator();
  ev.step(0, 10_000, [obs(true)]);
  assert.deepEqual(ev.step(5_000, 10_000, [obs(false)]), []);
  assert.equal(ev.instances.get('group=G topic=T')?.state, 'ok');
  // The next active stretch starts its own `for`.
  ev.step(6_000, 10_000, [obs(true)]);
  assert.deepEqual(ev.step(15_000, 10_000, [obs(true)]), []);
  assert.equal(ev.step(16_000, 10_000, [obs(true)]).length, 1);
});

void test('alarms evaluator - no flapping: firing holds while the condition comes back within `for`, resolves after `for` false', () => {
  const ev = new RuleEvaluator();
  const FOR = 10_000;
  ev.step(0, FOR, [obs(true)]);
  assert.equal(ev.step(10_000, FOR, [obs(true)])[0]?.status, 'firing');
  // False for 9 s, true again, false again: no notification at all.
  assert.deepEqual(ev.step(11_000, FOR, [obs(false)]), []);
  assert.deepEqual(ev.step(19_999, FOR, [obs(false)]), []);
  assert.deepEqual(ev.step(20_000, FOR, [obs(true)]), []);
  assert.deepEqual(ev.step(21_000, FOR, [obs(false)]), []);
  assert.equal(ev.instances.get('group=G topic=T')?.state, 'firing');
  // False from 21 s: resolves at 31 s, not before.
  assert.deepEqual(ev.step(30_999, FOR, [obs(false)]), []);
  const resolved = ev.step(31_000, FOR, [obs(false, 0)]);
  assert.equal(resolved.length, 1);
  assert.equal(resolved[0].status, 'resolved');
  assert.equal(resolved[0].startsAt, 10_000, 'startsAt is when it fired');
  assert.equal(resolved[0].endsAt, 31_000);
  assert.equal(resolved[0].summary, 'lag 10', 'the summary of what fired, not of the calm');
  const inst = ev.instances.get('group=G topic=T')!;
  assert.equal(inst.state, 'ok');
  assert.equal(inst.lastResolvedAt, 31_000);
});

void test('alarms evaluator - `for` 0 fires and resolves at once', () => {
  const ev = new RuleEvaluator();
  assert.equal(ev.step(5, 0, [obs(true)])[0]?.status, 'firing');
  assert.equal(ev.step(6, 0, [obs(false)])[0]?.status, 'resolved');
});

void test('alarms evaluator - one alarm per scope; a scope no longer observed resolves; no data holds everything', () => {
  const ev = new RuleEvaluator();
  const a = obs(true, 5, 'group=A topic=T');
  const b = obs(true, 7, 'group=B topic=T');
  const fired = ev.step(0, 0, [a, b]);
  assert.deepEqual(fired.map((t) => t.key).sort(), ['group=A topic=T', 'group=B topic=T']);
  // No data (nothing answered): nothing moves, however long.
  assert.deepEqual(ev.step(100_000, 0, undefined), []);
  assert.equal(ev.instances.size, 2);
  // B's group was deleted: not observed any more, so it resolves and is forgotten.
  const out = ev.step(100_001, 0, [a]);
  assert.deepEqual(out.map((t) => [t.key, t.status]), [['group=B topic=T', 'resolved']]);
  assert.deepEqual([...ev.instances.keys()], ['group=A topic=T']);
  assert.deepEqual(ev.resolveAll(100_002).map((t) => [t.key, t.status, t.endsAt]), [['group=A topic=T', 'resolved', 100_002]]);
  assert.equal(ev.instances.size, 0);
});

void test('alarms evaluator - counter window: growth over the window, a drop starts over', () => {
  const w = new CounterWindow();
  w.add(0, 3);
  assert.deepEqual(w.increase(0, 60_000), { delta: 0, spanMs: 0 }, 'what existed before the first sample never counts');
  w.add(10_000, 5);
  assert.deepEqual(w.increase(10_000, 60_000), { delta: 2, spanMs: 10_000 });
  w.add(70_000, 5);
  assert.deepEqual(w.increase(70_000, 60_000), { delta: 0, spanMs: 60_000 }, 'the growth at 10 s left the 60 s window');
  w.add(80_000, 1);
  assert.deepEqual(w.increase(80_000, 60_000), { delta: 0, spanMs: 0 }, 'a counter that went down is a reset, not negative growth');
});
