// The floor below grpc-js (issue 17, a figure for the notes only: the project serves gRPC with
// @grpc/grpc-js): a bare node:http2 server that answers every unary call with the same encoded
// SendMessageResponse (one DATA frame of the 5-byte gRPC prefix and the message, then trailers
// with grpc-status 0), without decoding the request. Prints "ready <port>"; a child of
// grpc-floor-bench.ts (variant "http2").
import { createServer, type ServerHttp2Stream } from 'node:http2';
import { encodeSendMessageResponse } from '../../src/proxy/unary-encoder.js';

const message = encodeSendMessageResponse({ status: { code: 20000, message: 'OK' }, entries: [] });
if (message === undefined) throw new Error('the hand-written encoder does not take the constant answer');
const frame = Buffer.alloc(5 + message.length);
frame.writeUInt32BE(message.length, 1);
message.copy(frame, 5);
const HEADERS = { ':status': 200, 'content-type': 'application/grpc+proto' };
const TRAILERS = { 'grpc-status': '0', 'grpc-message': 'OK' };

function answer(stream: ServerHttp2Stream): void {
  stream.on('error', () => {});
  stream.on('data', () => {});
  stream.on('end', () => {
    if (stream.destroyed) return;
    stream.respond(HEADERS, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers(TRAILERS));
    stream.end(frame);
  });
}

const server = createServer({ settings: { maxConcurrentStreams: 1024 } });
server.on('stream', answer);
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  console.log(`ready ${typeof a === 'object' && a ? a.port : 0}`);
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
