// The lite send path's bookkeeping (issue 18) without a broker: a send finds its lite topic's
// subscribers by table slot instead of by name, and reuses the slot checkSend found. Random
// sequences of subscribe, unsubscribe, send, send with a stale slot hint and deletion are checked
// against a plain model: after each send exactly the groups subscribed to that lite topic have it
// ready, and the table counts every send of a live lite topic.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LiteAction, LiteService, type LiteHost } from '../../src/broker/lite/lite-service.js';

const PARENT = 'LiteP';

function service(): LiteService {
  const tc = { topicName: PARENT, readQueueNums: 4, writeQueueNums: 4, perm: 6, attributes: { '+message.type': 'LITE' } };
  const host = {
    store: {},
    topicConfigManager: { selectTopicConfig: (t: string) => (t === PARENT ? tc : undefined), topics: [tc].values() },
    config: { storePathRootDir: 'unused' },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined },
    services: { retries: { sendBack: () => Promise.resolve() } },
  } as unknown as LiteHost;
  // Never started: no files, no timers; the table and subscriptions are what is under test.
  return new LiteService(host);
}

/** The group's ready set (private: what a receive would claim next). */
function readyOf(svc: LiteService, group: string): Set<string> {
  const g = (svc as unknown as { groups: Map<string, { ready: Set<string> }> }).groups.get(`${group}\u0001${PARENT}`);
  return g?.ready ?? new Set();
}

type Op =
  | { k: 'sub' | 'unsub'; g: number; n: number }
  | { k: 'send'; n: number }
  | { k: 'staleSend'; n: number; del: number; make: number }
  | { k: 'del'; n: number };

describe('lite send path', () => {
  test('lite send - subscribers found by slot match a by-name model across subscribe, unsubscribe, deletion and slot reuse', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const groups = ['g0', 'g1', 'g2'];
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ k: fc.constantFrom('sub' as const, 'unsub' as const), g: fc.nat(2), n: fc.nat(4) }),
      fc.record({ k: fc.constant('send' as const), n: fc.nat(4) }),
      fc.record({ k: fc.constant('staleSend' as const), n: fc.nat(4), del: fc.nat(4), make: fc.nat(4) }),
      fc.record({ k: fc.constant('del' as const), n: fc.nat(4) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const svc = service();
        const subs = groups.map(() => new Set<string>());
        const counts = new Map<string, number>();
        let q = 0;
        const send = (name: string, hint: number): void => {
          for (const g of groups) readyOf(svc, g).clear();
          svc.stored(PARENT, name, 0, q++, 1000 + q, q * 100, hint);
          counts.set(name, (counts.get(name) ?? 0) + 1);
          groups.forEach((g, i) => assert.equal(readyOf(svc, g).has(name), subs[i].has(name), `${g} ready for ${name}`));
        };
        const del = (name: string): void => {
          const t = svc.table.get(PARENT, name);
          if (!t) return;
          svc.deleteLiteTopic(t, 'test');
          counts.delete(name);
          for (const s of subs) s.delete(name);
        };
        for (const o of ops) {
          switch (o.k) {
            case 'sub':
            case 'unsub':
              svc.sync(`client-${o.g}`, groups[o.g], PARENT, o.k === 'sub' ? LiteAction.PARTIAL_ADD : LiteAction.PARTIAL_REMOVE, [names[o.n]]);
              if (o.k === 'sub') subs[o.g].add(names[o.n]);
              else subs[o.g].delete(names[o.n]);
              break;
            case 'send':
              send(names[o.n], svc.checkSend(PARENT, names[o.n]));
              break;
            case 'staleSend': {
              // The hint is taken, then the lite topic (or another) is deleted and another created meanwhile.
              const hint = svc.checkSend(PARENT, names[o.n]);
              del(names[o.del]);
              if (!svc.table.has(PARENT, names[o.make])) send(names[o.make], -1);
              send(names[o.n], hint);
              break;
            }
            case 'del':
              del(names[o.n]);
              break;
          }
        }
        for (const n of names) assert.equal(svc.table.get(PARENT, n)?.count, counts.get(n), `count of ${n}`);
      }),
      { numRuns: 400 },
    );
  });
});
