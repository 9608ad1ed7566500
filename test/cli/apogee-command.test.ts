import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RemotingClient, RequestCode, ResponseCode, createRequest } from '../../src/remoting/index.js';
import { runApogee, spawnApogee } from '../helpers/spawn-apogee.js';
import { tempDir } from '../helpers/temp-dir.js';
import { readyLine } from '../../src/cli/roles.js';

void describe('apogee command', () => {
  void test('apogee command - an unknown option exits 2 and names it', async () => {
    const r = await runApogee(['namesrv', '--noSuchKey=1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /noSuchKey/);
    assert.equal(r.stdout, '');
  });

  void test('apogee command - a bad value exits 2 naming the key and the expected form', async () => {
    const r = await runApogee(['namesrv', '--listenPort', 'abc', '--orderMessageEnable=maybe']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /option --listenPort: expected an integer 0\.\.65535, got "abc"/);
    assert.match(r.stderr, /option --orderMessageEnable: expected true or false, got "maybe"/);
  });

  void test('apogee command - a missing config file exits 2 naming it', async () => {
    const r = await runApogee(['namesrv', '-c', join('no', 'such', 'dir', 'namesrv.conf')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read config file .*namesrv\.conf/);
  });

  void test('apogee command - a bad value in the file names key and line; environment errors too', async () => {
    using dir = tempDir();
    const file = join(dir.path, 'broker.conf');
    writeFileSync(file, 'brokerClusterName=DefaultCluster\nbrokerName=broker-a\n\nflushDiskType=SOMETIMES\n');
    const r = await runApogee(['broker', '-c', file, '-n', '127.0.0.1:9876'], { env: { APOGEE_brokerId: 'x' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /broker\.conf:4: flushDiskType: expected one of ASYNC_FLUSH, SYNC_FLUSH, got "SOMETIMES"/);
    assert.match(r.stderr, /environment APOGEE_brokerId: expected an integer/);
  });

  void test('apogee command - a bad log level exits 2', async () => {
    const r = await runApogee(['namesrv', '--logLevel', 'loud']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /loud/);
  });

  void test('apogee command - namesrv prints the ready line, serves routes, exits 0 on SIGTERM', async () => {
    await using apogee = await spawnApogee(['namesrv', '--listenPort=0', '--host', '127.0.0.1', '--logLevel=warn']);
    assert.match(apogee.stdout(), /^apogee ready: namesrv=127\.0\.0\.1:\d+\n$/);
    const addr = apogee.addresses.namesrv!;
    assert.notEqual(addr, '127.0.0.1:0');
    const client = new RemotingClient();
    try {
      const res = await client.invoke(addr, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'T' }), 3000);
      assert.equal(res.code, ResponseCode.TOPIC_NOT_EXIST);
      assert.equal(res.remark, 'No topic route info in name server for the topic: T');
    } finally {
      await client.close();
    }
    const exit = await apogee.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  void test('apogee command - standalone starts its name server on the given port and exits 0 on SIGINT', async () => {
    using dir = tempDir();
    await using apogee = await spawnApogee(
      ['standalone', '--namesrvPort=0', '--listenPort=0', '--grpcServerPort=0', '--httpPort=0', '--host=127.0.0.1'],
      { env: { APOGEE_storePathRootDir: join(dir.path, 'data') } },
    );
    assert.match(apogee.addresses.namesrv ?? '', /^127\.0\.0\.1:\d+$/);
    assert.equal(apogee.stdout().split('\n').filter((l) => l.startsWith('apogee ready:')).length, 1);
    assert.deepEqual(await apogee.stop('SIGINT'), { code: 0, signal: null });
  });

  void test('apogee command - the ready line lists roles in fixed order', () => {
    const h = (addresses: Record<string, string>) => ({ addresses, close: async () => {} });
    assert.equal(
      readyLine([h({ http: 'h:4', broker: 'b:2' }), h({ namesrv: 'n:1' }), h({ grpc: 'g:3' })]),
      'apogee ready: namesrv=n:1 broker=b:2 grpc=g:3 http=h:4',
    );
  });
});
