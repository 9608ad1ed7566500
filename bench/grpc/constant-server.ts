// A grpc-js MessagingService that answers SendMessage with a constant OK and stores nothing: the
// baseline for the broker's gRPC send latency (what grpc-js and Node's HTTP/2 cost by themselves).
// Same schema loading and server options as the broker's endpoint. Prints "ready <port>".
// Run as a child of grpc-latency-baseline.ts.
import * as grpc from '@grpc/grpc-js';
import { loadMessagingService } from '../../src/proxy/proto.js';

const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 << 20, 'grpc.max_send_message_length': 16 << 20, 'grpc.enable_channelz': 0 });
const answer = { status: { code: 20000, message: 'OK' }, entries: [] };
server.addService(loadMessagingService(), {
  SendMessage: (_call: unknown, cb: (err: null, res: unknown) => void) => cb(null, answer),
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  console.log(`ready ${port}`);
});
process.on('SIGTERM', () => server.forceShutdown());
