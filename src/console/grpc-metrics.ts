// rocketmq_rpc_latency for the gRPC v2 endpoint: the observability hook, typed as the endpoint's
// GrpcHook, with response codes named after apache.rocketmq.v2.Code in lower case ("ok",
// "bad_request", ...), as RocketMQ names remoting response codes.
import { grpcRpcHook, type GrpcMetricsHook, type RpcMetrics } from '../observability/metrics/index.js';
import { Code } from '../proxy/grpc-code.js';
import type { GrpcHook } from '../proxy/grpc-hooks.js';

const v2Names = new Map<number, string>(Object.entries(Code).map(([k, v]) => [v, k.toLowerCase()]));

/** A v2 Code outside the table is "unknown": a bounded label set whatever a backend answers. */
export function v2CodeName(code: number): string {
  return v2Names.get(code) ?? 'unknown';
}

export function grpcMetricsHook(rpc: RpcMetrics, extra?: GrpcMetricsHook): GrpcHook {
  return grpcRpcHook(rpc, v2CodeName, extra);
}
