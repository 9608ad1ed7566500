// Issue 15: the CPU one ACL check costs per request, measured alone (the end-to-end bench is at
// the mercy of a shared machine): signing a 1 KiB SEND_MESSAGE_V2 as a client does, and the
// broker's whole check (resources, account, HMAC verify, permissions) for it; the gRPC check of a
// signed SendMessage (the broker's endpoint and `apogee proxy`); a name server's check of a
// signed REGISTER_BROKER. A send through `apogee proxy` with ACL everywhere costs one gRPC check
// and one signature in the proxy, and one remoting check in the broker.
//
//   node --import tsx bench/security/acl-check-cost.ts [--n 200000]
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../../src/common/logger.js';
import { grpcAclHook } from '../../src/proxy/grpc-acl-hook.js';
import { AclService, namesrvAccess, parsePlainAcl, PlainAccessValidator, remotingAccess } from '../../src/remoting/acl/index.js';
import { createRequest, RequestCode, signRequest } from '../../src/remoting/index.js';
import { benchArgs } from '../helpers/args.js';

const n = benchArgs().num('n', 200_000);
const ACL_TEXT = 'accounts:\n  - accessKey: benchApp0001\n    secretKey: benchAppSecret01\n    admin: true\n    defaultTopicPerm: DENY\n    topicPerms:\n      - T=PUB\n';
const acl = parsePlainAcl(ACL_TEXT, 'bench.yml');
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

// The gRPC hook reads the accounts through an AclService (as the endpoint does), from a temp file.
const dir = mkdtempSync(join(tmpdir(), 'apogee-acl-bench-'));
writeFileSync(join(dir, 'plain_acl.yml'), ACL_TEXT);
const service = AclService.open({ file: join(dir, 'plain_acl.yml'), logger: silentLogger });
const hook = grpcAclHook(service);
const md = new grpc.Metadata();
const dateTime = '20261203T120000Z';
md.set('x-mq-date-time', dateTime);
md.set('authorization', `MQv2-HMAC-SHA1 Credential=benchApp0001, SignedHeaders=x-mq-date-time, Signature=${createHmac('sha1', 'benchAppSecret01').update(dateTime).digest('hex')}`);
const grpcCtx = { method: 'SendMessage', metadata: md, peer: 'ipv4:127.0.0.1:5555' } as unknown as Parameters<NonNullable<typeof hook.before>>[0];
const grpcSend = { messages: [{ topic: { name: 'T' }, body }] };
time('gRPC / proxy: check of a signed SendMessage', () => {
  if (hook.before!(grpcCtx, grpcSend)) throw new Error('refused');
});
const register = createRequest(RequestCode.REGISTER_BROKER, { brokerName: 'b', brokerAddr: '127.0.0.1:10911', clusterName: 'C', haServerAddr: '', brokerId: 0 }, body);
signRequest(register.extFields, body, 'benchApp0001', 'benchAppSecret01');
time('namesrv: check of a signed REGISTER_BROKER', () => {
  if (validator.validate(namesrvAccess(register, '127.0.0.1'))) throw new Error('refused');
});
rmSync(dir, { recursive: true, force: true });
