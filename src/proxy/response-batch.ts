// Several responses of one server stream handed to grpc-js as one write. grpc-js's server stream
// is an object-mode Writable that passes a message down only after the previous one has gone
// out, so a 32-message receive left over many event-loop turns, one HTTP/2 write each. An
// interceptor (public grpc-js API) expands a batch into back-to-back sends on the call below
// it; the HTTP/2 stream then writes them together and the client gets them in one burst.
import * as grpc from '@grpc/grpc-js';

export class ResponseBatch {
  constructor(readonly responses: readonly unknown[]) {}
}

const noop = (): void => {};

/** Expands ResponseBatch writes on the given method paths; other methods get no wrapper at all. */
export function responseBatchInterceptor(paths: ReadonlySet<string>): grpc.ServerInterceptor {
  return (method, call) => {
    // grpc-js only uses the call interface of what an interceptor returns.
    if (!paths.has(method.path)) return call as grpc.ServerInterceptingCall;
    return new grpc.ServerInterceptingCall(call, {
      sendMessage(message, next) {
        if (!(message instanceof ResponseBatch)) {
          next(message);
          return;
        }
        const r = message.responses;
        // The last one completes the stream's write; the others need no callback of their own.
        for (let i = 0; i < r.length - 1; i++) call.sendMessage(r[i], noop);
        next(r[r.length - 1]);
      },
    });
  };
}
