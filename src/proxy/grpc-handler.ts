// One wrapper for every unary RPC: client id from metadata, errors answered as a Status in the
// payload (as the Java proxy does) with a message that names the cause.
import type * as grpc from '@grpc/grpc-js';
import { BrokerError } from '../remoting/index.js';
import { Code, codeFromRemoting, ProxyError, status, type Status } from './grpc-code.js';
import type { ProxyContext } from './proxy-context.js';

export function clientIdOf(call: { metadata: grpc.Metadata }): string {
  const v = call.metadata.get('x-mq-client-id')[0];
  return typeof v === 'string' ? v : v ? v.toString() : '';
}

export function errorStatus(ctx: ProxyContext, err: unknown, what: string): Status {
  if (err instanceof ProxyError) return status(err.code, err.message);
  if (err instanceof BrokerError) return status(codeFromRemoting(err.code), err.remark);
  ctx.logger.error({ err, rpc: what }, 'gRPC handler failed');
  return status(Code.INTERNAL_SERVER_ERROR, `${what} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
}

/**
 * The handler of a unary RPC. fn runs at once (a throw is answered like a rejection); its answer
 * goes through the time limit (ctx.timeouts), which drops an answer that comes after the timeout's.
 */
export function unary<Req, Res extends { status?: Status }>(
  ctx: ProxyContext,
  name: string,
  fn: (req: Req, clientId: string, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
): grpc.handleUnaryCall<Req, Res> {
  const timeouts = ctx.timeouts;
  return (call, callback) => {
    const clientId = clientIdOf(call);
    if (clientId) ctx.clients.touch(clientId);
    const timed = timeouts?.track(name, call, callback);
    let res: Promise<Res> | Res;
    try {
      res = fn(call.request, clientId, call);
    } catch (err) {
      if (timeouts === undefined || timeouts.settle(timed)) callback(null, { status: errorStatus(ctx, err, name) } as Res);
      return;
    }
    if (!(res instanceof Promise)) {
      if (timeouts === undefined || timeouts.settle(timed)) callback(null, res);
      return;
    }
    res.then(
      (r) => {
        if (timeouts === undefined || timeouts.settle(timed)) callback(null, r);
      },
      (err: unknown) => {
        if (timeouts === undefined || timeouts.settle(timed)) callback(null, { status: errorStatus(ctx, err, name) } as Res);
      },
    );
  };
}
