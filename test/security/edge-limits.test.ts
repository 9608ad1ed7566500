// Issue 15: the broker's edge under abuse. A flood of connections from one address, a client that
// never reads its responses, and oversized frames are each cut off while other clients keep being
// served, and memory stays bounded (measured: the buffers a non-reader would have pinned).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.js';
import { createRequest, encodeCommandToBuffer, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone } from '../helpers/standalone.js';
import { createTopic } from '../compat/helpers/ali-ons.js';
import { flood, openFrom } from './helpers.js';

const served = async (rc: RemotingClient, addr: string): Promise<void> => {
  const r = await rc.invoke(addr, createRequest(RequestCode.GET_BROKER_RUNTIME_INFO), 5000);
  assert.equal(r.code, ResponseCode.SUCCESS);
};

void describe('edge limits', () => {
  void test('edge limits - the keys exist with sane defaults (issue 15)', () => {
    const c = loadConfig('broker');
    assert.equal(c.serverMaxFrameLength, 16 * 1024 * 1024);
    assert.equal(c.serverMaxConnectionsPerAddress, 1024);
    assert.equal(c.serverMaxPendingWriteBytes, 64 * 1024 * 1024);
    assert.equal(c.serverMaxInflightPerConnection, 1024);
  });

  void test('edge limits - a connection flood from one address is capped, an oversized frame closes its connection, other clients are served (issue 15)', async () => {
    await using s = await startStandalone({ serverMaxConnectionsPerAddress: 20, serverMaxFrameLength: 1024 * 1024 });
    const port = Number(s.brokerAddr.split(':')[1]);
    const f = await flood(port, 60);
    try {
      await checkFor(5000, 20, () => f.closedByServer() === 40, `40 of 60 connections closed (got ${f.closedByServer()})`);
      const fromFlooder = [...s.controller.remotingServer.connections].filter((c) => c.remoteAddress.startsWith('127.0.0.2:'));
      assert.equal(fromFlooder.length, 20);
      assert.equal(s.controller.remotingServer.edgeStats.refusedConnections, 40);
      const rc = new RemotingClient();
      try {
        await served(rc, s.brokerAddr);
        // A frame announcing 50 MiB: the connection goes before anything is allocated.
        const big = await openFrom(port, '127.0.0.1');
        const gone = new Promise<void>((resolve) => big.once('close', () => resolve()));
        big.on('error', () => undefined);
        const head = Buffer.alloc(8);
        head.writeInt32BE(50 * 1024 * 1024, 0);
        big.write(head);
        await gone;
        await served(rc, s.brokerAddr);
      } finally {
        await rc.close();
      }
    } finally {
      f.destroy();
    }
  });

  void test('edge limits - a client that never reads its responses is cut off at serverMaxPendingWriteBytes; memory stays bounded (issue 15)', async () => {
    const limit = 4 * 1024 * 1024;
    // In-flight requests bound what is read before the write bound can act (each answer is read first).
    await using s = await startStandalone({ serverMaxPendingWriteBytes: limit, serverMaxInflightPerConnection: 16 });
    await createTopic(s, 'EdgeBig', 1);
    const rc = new RemotingClient();
    const body = Buffer.alloc(900 * 1024, 7);
    const send = createRequest(RequestCode.SEND_MESSAGE_V2, { a: 'PG', b: 'EdgeBig', c: 'TBW102', d: 1, e: 0, f: 0, g: Date.now(), h: 0, i: '', j: 0, k: false }, body);
    const sent = await rc.invoke(s.brokerAddr, send);
    assert.equal(sent.code, ResponseCode.SUCCESS);
    // The offset message id ends with the commit-log offset (16 hex digits).
    const offset = BigInt(`0x${sent.extFields.msgId.slice(-16)}`).toString();
    const port = Number(s.brokerAddr.split(':')[1]);
    const reader = await openFrom(port, '127.0.0.1');
    reader.on('error', () => undefined);
    reader.pause();
    const before = process.memoryUsage();
    const views = 300; // 300 × 900 KiB = 264 MiB of responses if the broker kept them all
    const frames = Array.from({ length: views }, () => encodeCommandToBuffer(createRequest(RequestCode.VIEW_MESSAGE_BY_ID, { offset })));
    reader.write(Buffer.concat(frames));
    const server = s.controller.remotingServer;
    const isOpen = (): boolean => [...server.connections].some((c) => c.remoteAddress === `127.0.0.1:${reader.localPort}`);
    await checkFor(20_000, 20, () => !isOpen(), 'the non-reading connection is cut off');
    const after = process.memoryUsage();
    const grewMiB = (after.arrayBuffers + after.external - before.arrayBuffers - before.external) / 1048576;
    // Far below the 264 MiB the answers add up to; the bound plus in-flight reads, with room for GC timing.
    assert.ok(grewMiB < 96, `external memory grew ${grewMiB.toFixed(1)} MiB`);
    console.log(`# slow reader cut off; external+arrayBuffers grew ${grewMiB.toFixed(1)} MiB for ${views} unread 900 KiB answers (limit ${limit / 1048576} MiB)`);
    try {
      await served(rc, s.brokerAddr);
    } finally {
      reader.destroy();
      await rc.close();
    }
  });
});
