// A unary call's answer and its OK status in one go (issue 17). grpc-js's unary handler sends the
// status only from the write callback of the response message, so every call took two HTTP/2
// writes in two event-loop turns: HEADERS + DATA, then (once the socket took them) the trailers.
// Handing the status down right after the message lets Node's HTTP/2 session send headers, data
// and trailers together. Only a unary handler's answer is sent early: a unary handler that answers
// a message always ends with OK (grpc-js's handleUnary), and an error answer carries no message.
// If the message cannot be serialized, grpc-js ends the call with INTERNAL first and the early
// status finds the call over (a no-op), as the late one did.
import * as grpc from '@grpc/grpc-js';

export const UNARY_OK: Parameters<grpc.ServerInterceptingCallInterface['sendStatus']>[0] = Object.freeze({ code: grpc.status.OK, details: 'OK' });

/** Interceptor for unary methods (streaming ones pass unchanged). The call hooks do the same themselves when they wrap a call. */
export function unaryTrailersInterceptor(): grpc.ServerInterceptor {
  return (method, call) => (method.requestStream || method.responseStream ? (call as grpc.ServerInterceptingCall) : unaryTrailersCall(call));
}

/** One unary call with its OK sent right after its answer. */
export function unaryTrailersCall(call: grpc.ServerInterceptingCallInterface): grpc.ServerInterceptingCall {
  let ended = false;
  return new grpc.ServerInterceptingCall(call, {
    sendMessage(message, next) {
      next(message);
      if (ended) return;
      ended = true;
      call.sendStatus(UNARY_OK);
    },
    sendStatus(status, next) {
      // The handler's own OK after its write: already sent. A status without a message (an error
      // status of grpc-js) goes down as it is.
      if (ended) return;
      ended = true;
      next(status);
    },
  });
}
