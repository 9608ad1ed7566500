// A plain @grpc/grpc-js client of MessagingService for the gRPC benches (no 5.x client library),
// and the 1 KiB test messages they send.
import { randomBytes, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { loadMessagingService, receiveMessageResponseType } from '../../src/proxy/proto.js';

type Unary = (req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: any) => void) => void;
type Streaming = (req: unknown, md: grpc.Metadata) => grpc.ClientReadableStream<any>;

export interface GrpcLoadClient {
  unary(method: string, req: unknown): Promise<any>;
  /** A server-streaming call's frames, once it has ended. */
  stream(method: string, req: unknown): Promise<any[]>;
  close(): void;
}

/**
 * window: the client's HTTP/2 receive window in bytes. like5x: each unary call carries what
 * rocketmq-client-nodejs sends (fresh x-mq-* metadata per call and a deadline, 30 s here where the client's is 3 s: a loaded box must not fail the bench), not the client id alone.
 */
export function grpcLoadClient(address: string, window: number, opts?: { like5x?: boolean }): GrpcLoadClient {
  // Received messages are decoded by protobufjs into its message objects (every field, nothing
  // skipped) rather than through proto-loader's extra conversion to plain objects, so that less of
  // the load process's CPU goes into the client side of the measurement.
  const service = loadMessagingService();
  const receiveType = receiveMessageResponseType();
  const Ctor = grpc.makeGenericClientConstructor(
    { ...service, ReceiveMessage: { ...service.ReceiveMessage, responseDeserialize: (b: Buffer) => receiveType.decode(b) } },
    'MessagingService',
  );
  const c = new Ctor(address, grpc.credentials.createInsecure(), { 'grpc-node.flow_control_window': window }) as unknown as grpc.Client &
    Record<string, Unary & Streaming>;
  const md = new grpc.Metadata();
  md.set('x-mq-client-id', `grpc-bench-${process.pid}`);
  md.set('x-mq-protocol', 'v2');
  const like5x = opts?.like5x === true;
  const metadataOf = (): grpc.Metadata => {
    if (!like5x) return md;
    const m = new grpc.Metadata();
    m.set('x-mq-language', 'HTTP');
    m.set('x-mq-protocol', 'v2');
    m.set('x-mq-client-version', '5.0.0');
    m.set('x-mq-date-time', new Date().toISOString().replace(/[-:]|\.\d+/g, ''));
    m.set('x-mq-request-id', randomUUID());
    m.set('x-mq-client-id', `grpc-bench-${process.pid}`);
    m.set('x-mq-namespace', '');
    return m;
  };
  type UnaryWithOptions = (req: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: any) => void) => void;
  return {
    unary: (m, req) =>
      new Promise((resolve, reject) => {
        const done = (err: grpc.ServiceError | null, res: unknown): void => (err ? reject(err) : resolve(res));
        if (like5x) (c[m] as unknown as UnaryWithOptions).call(c, req, metadataOf(), { deadline: Date.now() + 30_000 }, done);
        else (c[m] as Unary).call(c, req, md, done);
      }),
    stream: (m, req) =>
      new Promise((resolve, reject) => {
        const frames: any[] = [];
        const s = (c[m] as Streaming).call(c, req, md);
        s.on('data', (f) => frames.push(f));
        s.on('error', reject);
        s.on('end', () => resolve(frames));
      }),
    close: () => c.close(),
  };
}

/** n NORMAL messages with a fresh id each, tag "bench" and the given body. */
export function benchMessages(topic: string, n: number, body: Buffer): unknown[] {
  const now = Date.now();
  return Array.from({ length: n }, () => ({
    topic: { name: topic },
    body,
    systemProperties: {
      messageId: '01' + randomBytes(16).toString('hex').toUpperCase(),
      tag: 'bench',
      messageType: 1,
      bodyEncoding: 1,
      bornTimestamp: { seconds: Math.floor(now / 1000), nanos: 0 },
      bornHost: 'bench',
    },
  }));
}
