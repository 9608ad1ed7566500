// Issue 15: the CPU one ACL check costs per request, measured alone (the end-to-end bench is at
// the mercy of a shared machine): signing a 1 KiB SEND_MESSAGE_V2 as a client does, and the
// broker's whole check (resources, account, HMAC verify, permissions) for it.
//
//   node --import tsx bench/security/acl-check-cost.ts [--n 200000]
import { parsePlainAcl, PlainAccessValidator } from '../../src/broker/acl/index.js';
import { remotingAccess } from '../../src/broker/acl/remoting-access.js';
import { createRequest, RequestCode, signRequest } from '../../src/remoting/index.js';
import { benchArgs } from '../helpers/args.js';

const n = benchArgs().num('n', 200_000);
const acl = parsePlainAcl('accounts:\n  - accessKey: benchApp0001\n    secretKey: benchAppSecret01\n    defaultTopicPerm: DENY\n    topicPerms:\n      - T=PUB\n', 'bench.yml');
const validator = new PlainAccessValidator(acl);
const body = Buffer.alloc(1024, 0x61);
const make = () =>
  createRequest(RequestCode.SEND_MESSAGE_V2, { a: 'PG', b: 'T', c: 'TBW102', d: 4, e: 1, f: 0, g: Date.now(), h: 0, i: 'KEYS\u0001k\u0002UNIQ_KEY\u0001ABCDEF0123456789\u0002', j: 0, k: false }, body);

function time(label: string, fn: () => void): void {
  for (let i = 0; i < 20_000; i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${label.padEnd(44)} ${(ns / 1000).toFixed(2)} µs`);
}

const signed = make();
signRequest(signed.extFields, body, 'benchApp0001', 'benchAppSecret01');
time('build a request (baseline)', () => void make());
time('client: build + sign (HMAC-SHA1, 1 KiB body)', () => {
  const c = make();
  signRequest(c.extFields, body, 'benchApp0001', 'benchAppSecret01');
});
time('broker: whole ACL check of a signed send', () => {
  if (validator.validate(remotingAccess(signed, '127.0.0.1'))) throw new Error('refused');
});
