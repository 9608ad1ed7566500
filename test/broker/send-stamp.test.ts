// Issue 17: the send path stamps CLUSTER, MSG_REGION and TRACE_ON in one pass. The stored bytes must
// not change, so the one-pass functions are held to the edits they replaced (kept here as the model):
// set CLUSTER unless it already holds the cluster (a batch item: always), then MSG_REGION and
// TRACE_ON, each by its own edit, or both appended when neither is there.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { sendStamp, stampBatchProperties, stampSendProperties } from '../../src/broker/service/send-stamp.js';
import { MessageConst } from '../../src/common/message-const.js';
import { getPropertyFromString, string2messageProperties } from '../../src/common/message-properties.js';
import { setPropertyInString } from '../../src/common/property-edit.js';

const C = MessageConst.PROPERTY_CLUSTER;
const R = MessageConst.PROPERTY_MSG_REGION;
const T = MessageConst.PROPERTY_TRACE_SWITCH;

function modelTrace(props: string, regionId: string, traceOn: string): string {
  const region = getPropertyFromString(props, R);
  const on = getPropertyFromString(props, T);
  if (region === undefined && on === undefined) return `${props}${R}\u0001${regionId}\u0002${T}\u0001${traceOn}\u0002`;
  if (region !== regionId) props = setPropertyInString(props, R, regionId);
  if (on !== traceOn) props = setPropertyInString(props, T, traceOn);
  return props;
}

function modelSend(props: string, cluster: string, regionId: string, traceOn: string): string {
  const stamped = getPropertyFromString(props, C) === cluster ? props : setPropertyInString(props, C, cluster);
  return modelTrace(stamped, regionId, traceOn);
}

function modelBatch(props: string, cluster: string, regionId: string, traceOn: string): string {
  return modelTrace(setPropertyInString(props, C, cluster), regionId, traceOn);
}

const S = sendStamp('DefaultCluster', 'DefaultRegion', 'true');
const e = (k: string, v: string): string => `${k}\u0001${v}\u0002`;

const TABLE: [string, string][] = [
  ['empty', ''],
  ['a client message (none of the three)', e('UNIQ_KEY', 'AB12') + e('WAIT', 'true') + e('TAGS', 'a')],
  ['a last entry without its separator', `${e('WAIT', 'true')}TAGS\u0001a`],
  ['CLUSTER already this cluster', e(C, 'DefaultCluster') + e('TAGS', 'a')],
  ['CLUSTER of another cluster', e(C, 'Other') + e('TAGS', 'a')],
  ['CLUSTER given twice', e(C, 'A') + e('TAGS', 'a') + e(C, 'DefaultCluster')],
  ['region and trace already right', e(R, 'DefaultRegion') + e(T, 'true')],
  ['region wrong, trace missing', e(R, 'Elsewhere')],
  ['trace wrong, region missing', e(T, 'false')],
  ['all three present, all wrong', e(T, 'false') + e(C, 'X') + e(R, 'Y')],
  ['a name that only ends like one', e(`X${C}`, 'v') + e(`Y${R}`, 'v')],
  ['a value that holds a name', e('KEYS', `${C} ${R}`)],
];

void describe('send stamp - issue 17: one pass gives what the per-property edits gave', () => {
  for (const [name, props] of TABLE) {
    test(`send stamp - ${name}`, () => {
      assert.equal(stampSendProperties(props, S), modelSend(props, 'DefaultCluster', 'DefaultRegion', 'true'));
      assert.equal(stampBatchProperties(props, S), modelBatch(props, 'DefaultCluster', 'DefaultRegion', 'true'));
    });
  }

  test('send stamp - a client message gets the three entries appended, readable as properties', () => {
    const out = stampSendProperties(e('UNIQ_KEY', 'AB12'), S);
    assert.equal(out, e('UNIQ_KEY', 'AB12') + e(C, 'DefaultCluster') + e(R, 'DefaultRegion') + e(T, 'true'));
    assert.deepEqual(string2messageProperties(out), { UNIQ_KEY: 'AB12', [C]: 'DefaultCluster', [R]: 'DefaultRegion', [T]: 'true' });
  });

  test('send stamp - property: any properties string and stamp values give the edits\' result', () => {
    // Names drawn mostly from the three stamped ones (and look-alikes), values from a small alphabet
    // with the separators, so present, absent, repeated and torn entries all come up.
    const name = fc.constantFrom(C, R, T, 'TAGS', 'UNIQ_KEY', `${C}X`, `X${R}`, '');
    const text = fc.string({ unit: fc.constantFrom('a', 'B', '1', ' ', '\u0001', '\u0002'), maxLength: 6 });
    const piece = fc.oneof(fc.tuple(name, fc.string({ unit: fc.constantFrom('a', 'B', '1', ' '), maxLength: 4 })).map(([k, v]) => e(k, v)), text);
    const props = fc.array(piece, { maxLength: 6 }).map((a) => a.join(''));
    const value = fc.constantFrom('DefaultCluster', 'DefaultRegion', 'true', 'false', 'a', '');
    fc.assert(
      fc.property(props, value, value, fc.constantFrom('true', 'false'), (p, cluster, region, on) => {
        const s = sendStamp(cluster, region, on);
        assert.equal(stampSendProperties(p, s), modelSend(p, cluster, region, on));
        assert.equal(stampBatchProperties(p, s), modelBatch(p, cluster, region, on));
      }),
      { numRuns: 3000 },
    );
  });
});
