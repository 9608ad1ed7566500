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

export function unary<Req, Res extends { status?: Status }>(
  ctx: ProxyContext,
  name: string,
  fn: (req: Req, clientId: string, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const clientId = clientIdOf(call);
    if (clientId) ctx.clients.touch(clientId);
    Promise.resolve()
      .then(() => fn(call.request, clientId, call))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(null, { status: errorStatus(ctx, err, name) } as Res),
      );
  };
}
