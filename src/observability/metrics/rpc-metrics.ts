// rocketmq_rpc_latency (RemotingMetricsManager): one histogram in milliseconds per request code,
// response code, protocol, long-polling flag and write result, fed by the remoting server's
// response hook and by the gRPC endpoint's call hook.
import type { Registry } from 'prom-client';
import type { RemotingCommand } from '../../remoting/remoting-command.js';
import { RequestCode } from '../../remoting/request-code.js';
import type { RequestHook, RequestHookContext } from '../../remoting/request-hooks.js';
import { PullSysFlag } from '../../remoting/protocol/pull.js';
import { bool, requestCodeDesc, responseCodeDesc, SEND_REQUEST_CODES } from './labels.js';
import { SeriesHistogram, type HistogramSeries } from './series.js';

/** RemotingMetricsManager.getMetricsView: 1, 3, 5, 7, 10, 100 ms, 1, 2, 3 s. */
export const RPC_LATENCY_BUCKETS_MS = [1, 3, 5, 7, 10, 100, 1000, 2000, 3000] as const;

/**
 * Upper bounds (ms, inclusive) of the broker runtime's put-latency bands as rocketmq-exporter names
 * them (rocketmq_brokeruntime_pmdt_*): 0 ms, 0-10 ms, ..., 5-10 s, then 10 s and more.
 */
export const PUT_LATENCY_BANDS = [
  ['0ms', 0],
  ['0to10ms', 10],
  ['10to50ms', 50],
  ['50to100ms', 100],
  ['100to200ms', 200],
  ['200to500ms', 500],
  ['500to1s', 1000],
  ['1to2s', 2000],
  ['2to3s', 3000],
  ['3to4s', 4000],
  ['4to5s', 5000],
  ['5to10s', 10000],
  ['10stomore', Infinity],
] as const;

const UNKNOWN_CODE = 0xffff;

interface RemotingEntry {
  readonly series: HistogramSeries;
  /** A send request: its latency also counts in the put-latency bands. */
  readonly send: boolean;
}

/**
 * Java marks a request as long polling once the broker actually held it; the remoting hook cannot
 * see that, so a pull or pop that allowed the broker to hold it (the SUSPEND flag, a poll time)
 * counts as long polling whether or not it waited. Those calls' latency is the hold time, which
 * is what the label is for: leaving them out of request latency panels.
 */
function allowsLongPolling(req: RemotingCommand): boolean {
  if (req.code === RequestCode.PULL_MESSAGE) return (Number(req.extFields.sysFlag) & PullSysFlag.SUSPEND) !== 0;
  return Number(req.extFields.pollTime) > 0;
}

export class RpcMetrics {
  readonly latency: SeriesHistogram;
  /** Sends per put-latency band (PUT_LATENCY_BANDS order), since start. */
  readonly putLatencyBands = new Float64Array(PUT_LATENCY_BANDS.length);
  private readonly requestCodes: ReadonlySet<number>;
  private readonly remoting = new Map<number, RemotingEntry>();
  /** gRPC series by request code, response code, result, then [not long polling, long polling]. */
  private readonly grpc = new Map<string, Map<string, Map<string, [HistogramSeries | undefined, HistogramSeries | undefined]>>>();

  constructor(registry: Registry) {
    this.latency = new SeriesHistogram(
      'rocketmq_rpc_latency',
      'Rpc latency in milliseconds, per request code and response code',
      ['protocol_type', 'request_code', 'response_code', 'is_long_polling', 'result'],
      RPC_LATENCY_BUCKETS_MS,
      registry,
    );
    this.requestCodes = new Set<number>(Object.values(RequestCode));
  }

  /** The remoting server's hook: one observation per response (oneway requests included). */
  remotingHook(): RequestHook {
    // afterMs: a number of milliseconds, so no BigInt is made per request for this hook.
    return { afterMs: (ctx, response, elapsedMs) => this.onRemoting(ctx, response, elapsedMs) };
  }

  private onRemoting(ctx: RequestHookContext, response: RemotingCommand, ms: number): void {
    const code = ctx.code;
    const longPolling = (code === RequestCode.PULL_MESSAGE || code === RequestCode.POP_MESSAGE) && allowsLongPolling(ctx.request);
    // A number key, so no string is built per request; unknown codes are not cached under their
    // own number (see seriesFor), so the map stays as small as the label set.
    const rc = response.code;
    const key = (code * 65536 + rc) * 4 + (ctx.oneway ? 2 : 0) + (longPolling ? 1 : 0);
    const e = this.remoting.get(key) ?? this.remotingEntry(code, rc, ctx.oneway, longPolling);
    this.latency.record(e.series, ms);
    if (e.send) this.recordPutLatency(ms);
  }

  private remotingEntry(rawCode: number, rawRc: number, oneway: boolean, longPolling: boolean): RemotingEntry {
    const code = this.requestCodes.has(rawCode) ? rawCode : UNKNOWN_CODE;
    const rc = Number.isInteger(rawRc) && rawRc >= 0 && rawRc < UNKNOWN_CODE && responseCodeDesc(rawRc) !== 'unknown' ? rawRc : UNKNOWN_CODE;
    const boundedKey = (code * 65536 + rc) * 4 + (oneway ? 2 : 0) + (longPolling ? 1 : 0);
    let e = this.remoting.get(boundedKey);
    if (!e) {
      const series = this.latency.series(boundedKey, () => ({
        protocol_type: 'remoting',
        request_code: code === UNKNOWN_CODE ? 'unknown' : requestCodeDesc(code),
        response_code: rc === UNKNOWN_CODE ? 'unknown' : responseCodeDesc(rc),
        is_long_polling: bool(longPolling),
        // Java reports the outcome of writing the response; a write here is queued, never refused.
        result: oneway ? 'oneway' : 'success',
      }));
      e = { series, send: SEND_REQUEST_CODES.has(code) };
      this.remoting.set(boundedKey, e);
    }
    // A known pair is found under its own key from now on (key === boundedKey); an unknown code
    // takes this path again rather than growing the map.
    return e;
  }

  /**
   * A gRPC call (labels already in RocketMQ's style: snake-case method, lower-case v2 code name),
   * taking `elapsed` in milliseconds (a BigInt is read as nanoseconds, as the call hooks used to pass).
   * The series is found through maps keyed by the label strings themselves: nothing is concatenated
   * per call.
   */
  observeGrpc(requestCode: string, responseCode: string, result: string, longPolling: boolean, elapsed: number | bigint): void {
    let byResponse = this.grpc.get(requestCode);
    if (byResponse === undefined) this.grpc.set(requestCode, (byResponse = new Map()));
    let byResult = byResponse.get(responseCode);
    if (byResult === undefined) byResponse.set(responseCode, (byResult = new Map()));
    let pair = byResult.get(result);
    if (pair === undefined) byResult.set(result, (pair = [undefined, undefined]));
    const i = longPolling ? 1 : 0;
    const s = pair[i] ?? (pair[i] = this.grpcSeries(requestCode, responseCode, result, longPolling));
    const ms = typeof elapsed === 'bigint' ? Number(elapsed) / 1e6 : elapsed;
    this.latency.record(s, ms);
    if (requestCode === 'send_message') this.recordPutLatency(ms);
  }

  private grpcSeries(requestCode: string, responseCode: string, result: string, longPolling: boolean): HistogramSeries {
    return this.latency.series(`grpc\u0001${requestCode}\u0001${responseCode}\u0001${result}\u0001${longPolling ? 1 : 0}`, () => ({
      protocol_type: 'grpc',
      request_code: requestCode,
      response_code: responseCode,
      is_long_polling: bool(longPolling),
      result,
    }));
  }

  private recordPutLatency(ms: number): void {
    const whole = Math.floor(ms);
    let i = 0;
    while (whole > PUT_LATENCY_BANDS[i][1]) i++;
    this.putLatencyBands[i]++;
  }

  /**
   * Send requests answered with a failure, over both protocols, since start: remoting sends answered
   * with another code than SUCCESS, gRPC SendMessage calls answered with another status than OK.
   */
  sendFailures(): number {
    return this.latency.countWhere(
      (l) =>
        (l.protocol_type === 'remoting' && l.request_code.startsWith('send_') && l.response_code !== 'success') ||
        (l.protocol_type === 'grpc' && l.request_code === 'send_message' && l.response_code !== 'ok'),
    );
  }
}
