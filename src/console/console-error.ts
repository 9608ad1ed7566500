// What the console's API answers when an operation fails: an HTTP status and one sentence, never
// a stack. Broker answers keep their RocketMQ code and remark; the table below is the one place
// that maps response codes to HTTP statuses (CONVENTIONS: one table per protocol).
import { MQBrokerError } from '../client/index.js';
import { ResponseCode, responseCodeName } from '../remoting/index.js';

export class ConsoleError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    /** The broker's response code when the failure is a broker answer. */
    readonly code?: number,
  ) {
    super(message);
    this.name = 'ConsoleError';
  }
}

/** Something the request names that does not exist. */
export const notFound = (what: string): ConsoleError => new ConsoleError(404, what);
/** Input the schema could not express (cross-field rules, ids that do not decode). */
export const badRequest = (what: string): ConsoleError => new ConsoleError(400, what);
/** A feature whose broker request has not landed on the broker asked. */
export const notAvailable = (what: string): ConsoleError => new ConsoleError(501, `not available on this broker yet: ${what}`);

const HTTP_BY_CODE: Readonly<Record<number, number>> = {
  [ResponseCode.TOPIC_NOT_EXIST]: 404,
  [ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST]: 404,
  [ResponseCode.QUERY_NOT_FOUND]: 404,
  [ResponseCode.NO_MESSAGE]: 404,
  [ResponseCode.INVALID_PARAMETER]: 400,
  [ResponseCode.NO_PERMISSION]: 403,
  [ResponseCode.REQUEST_CODE_NOT_SUPPORTED]: 501,
  [ResponseCode.CONSUMER_NOT_ONLINE]: 409,
  [ResponseCode.SYSTEM_BUSY]: 503,
  [ResponseCode.SERVICE_NOT_AVAILABLE]: 503,
};

/** HTTP status for a broker's response code; anything unlisted is the upstream's failure (502). */
export function httpStatusOf(code: number): number {
  return HTTP_BY_CODE[code] ?? 502;
}

/** Any failure as a ConsoleError: broker answers keep code and remark, the rest become 502 with their first line. */
export function toConsoleError(err: unknown): ConsoleError {
  if (err instanceof ConsoleError) return err;
  if (err instanceof MQBrokerError) {
    const status = httpStatusOf(err.code);
    const msg = status === 501 ? `not available on this broker yet: ${err.addr} answered ${responseCodeName(err.code)}` : `${err.addr} answered ${responseCodeName(err.code)} (${err.code}): ${err.remark || '-'}`;
    return new ConsoleError(status, msg, err.code);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ConsoleError(502, message.split('\n')[0]);
}
