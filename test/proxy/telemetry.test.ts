// Telemetry stream contract with a raw gRPC client: settings are answered at once on the stream,
// and NotifyClientTermination leaves the stream to the client (a server-ended stream makes the
// nodejs client reopen it after its own shutdown and retry for ever).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Code } from '../../src/proxy/index.js';
import { loadMessagingService } from '../../src/proxy/proto.js';
import { createTopic, GrpcHarness } from '../compat/helpers/grpc.js';

interface Frame {
  status?: { code: number };
  settings?: { clientType?: number; publishing?: { maxBodySize?: number } };
}
type Duplex = grpc.ClientDuplexStream<unknown, Frame>;

function nextFrame(s: Duplex): Promise<Frame> {
  return new Promise((resolve, reject) => {
    const onData = (f: Frame): void => {
      s.off('error', reject);
      resolve(f);
    };
    s.once('data', onData);
    s.once('error', reject);
  });
}

void test('proxy telemetry - settings are answered on the stream, and NotifyClientTermination does not end it', async () => {
  await using h = await GrpcHarness.start();
  await createTopic(h.s, 'TTelemetry');
  const Ctor = grpc.makeGenericClientConstructor(loadMessagingService(), 'MessagingService');
  const client = new Ctor(h.endpoints, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, (...a: unknown[]) => unknown>;
  const md = new grpc.Metadata();
  md.set('x-mq-client-id', 'telemetry-test-client');
  const stream = client.Telemetry(md) as Duplex;
  const ended = new Promise<string>((resolve) => {
    stream.on('end', () => resolve('end'));
    stream.on('error', (e) => resolve(`error ${e.message}`));
  });
  try {
    const settings = { settings: { clientType: 1, publishing: { topics: [{ name: 'TTelemetry' }] } } };
    stream.write(settings);
    const first = await nextFrame(stream);
    assert.equal(first.status?.code, Code.OK);
    assert.equal(first.settings?.clientType, 1);
    assert.ok((first.settings?.publishing?.maxBodySize ?? 0) > 0, 'a producer is told a positive max body size');

    const res = await new Promise<{ status: { code: number } }>((resolve, reject) =>
      client.NotifyClientTermination({}, md, (err: Error | null, r: { status: { code: number } }) => (err ? reject(err) : resolve(r))),
    );
    assert.equal(res.status.code, Code.OK);
    // Still open: a repeated settings command is answered again on the same stream.
    stream.write(settings);
    const again = await Promise.race([nextFrame(stream), ended.then((why) => ({ closed: why }))]);
    assert.deepEqual((again as { status?: unknown }).status, { code: Code.OK, message: 'OK' });
  } finally {
    stream.end();
    client.close();
  }
});
