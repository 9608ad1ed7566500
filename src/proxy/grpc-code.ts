// apache.rocketmq.v2.Code values, and the one table from remoting response codes to them.
import { ResponseCode } from '../remoting/index.js';

export const Code = {
  OK: 20000,
  MULTIPLE_RESULTS: 30000,
  BAD_REQUEST: 40000,
  ILLEGAL_ACCESS_POINT: 40001,
  ILLEGAL_TOPIC: 40002,
  ILLEGAL_CONSUMER_GROUP: 40003,
  ILLEGAL_MESSAGE_TAG: 40004,
  ILLEGAL_MESSAGE_KEY: 40005,
  ILLEGAL_MESSAGE_GROUP: 40006,
  ILLEGAL_MESSAGE_PROPERTY_KEY: 40007,
  INVALID_TRANSACTION_ID: 40008,
  ILLEGAL_MESSAGE_ID: 40009,
  ILLEGAL_FILTER_EXPRESSION: 40010,
  ILLEGAL_INVISIBLE_TIME: 40011,
  ILLEGAL_DELIVERY_TIME: 40012,
  INVALID_RECEIPT_HANDLE: 40013,
  MESSAGE_PROPERTY_CONFLICT_WITH_TYPE: 40014,
  UNRECOGNIZED_CLIENT_TYPE: 40015,
  MESSAGE_CORRUPTED: 40016,
  CLIENT_ID_REQUIRED: 40017,
  ILLEGAL_POLLING_TIME: 40018,
  ILLEGAL_OFFSET: 40019,
  UNAUTHORIZED: 40100,
  FORBIDDEN: 40300,
  NOT_FOUND: 40400,
  MESSAGE_NOT_FOUND: 40401,
  TOPIC_NOT_FOUND: 40402,
  CONSUMER_GROUP_NOT_FOUND: 40403,
  OFFSET_NOT_FOUND: 40404,
  REQUEST_TIMEOUT: 40800,
  PAYLOAD_TOO_LARGE: 41300,
  MESSAGE_BODY_TOO_LARGE: 41301,
  MESSAGE_BODY_EMPTY: 41302,
  PRECONDITION_FAILED: 42800,
  TOO_MANY_REQUESTS: 42900,
  REQUEST_HEADER_FIELDS_TOO_LARGE: 43100,
  MESSAGE_PROPERTIES_TOO_LARGE: 43101,
  INTERNAL_ERROR: 50000,
  INTERNAL_SERVER_ERROR: 50001,
  HA_NOT_AVAILABLE: 50002,
  NOT_IMPLEMENTED: 50100,
  PROXY_TIMEOUT: 50400,
  MASTER_PERSISTENCE_TIMEOUT: 50401,
  SLAVE_PERSISTENCE_TIMEOUT: 50402,
  UNSUPPORTED: 50500,
} as const;

export type CodeValue = (typeof Code)[keyof typeof Code];

export interface Status {
  code: number;
  message: string;
}

const names = new Map<number, string>(Object.entries(Code).map(([k, v]) => [v, k]));

export function status(code: number, message?: string): Status {
  return { code, message: message ?? names.get(code) ?? String(code) };
}

export const OK_STATUS: Status = status(Code.OK);

/** Remoting response code → gRPC Code (Java proxy ResponseBuilder). */
const FROM_REMOTING: Record<number, number> = {
  [ResponseCode.SUCCESS]: Code.OK,
  [ResponseCode.SYSTEM_BUSY]: Code.TOO_MANY_REQUESTS,
  [ResponseCode.REQUEST_CODE_NOT_SUPPORTED]: Code.NOT_IMPLEMENTED,
  [ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST]: Code.CONSUMER_GROUP_NOT_FOUND,
  [ResponseCode.TOPIC_NOT_EXIST]: Code.TOPIC_NOT_FOUND,
  [ResponseCode.NO_PERMISSION]: Code.FORBIDDEN,
  [ResponseCode.MESSAGE_ILLEGAL]: Code.BAD_REQUEST,
  [ResponseCode.INVALID_PARAMETER]: Code.BAD_REQUEST,
  [ResponseCode.SUBSCRIPTION_PARSE_FAILED]: Code.ILLEGAL_FILTER_EXPRESSION,
  [ResponseCode.FLUSH_DISK_TIMEOUT]: Code.MASTER_PERSISTENCE_TIMEOUT,
  [ResponseCode.FLUSH_SLAVE_TIMEOUT]: Code.SLAVE_PERSISTENCE_TIMEOUT,
  [ResponseCode.SLAVE_NOT_AVAILABLE]: Code.HA_NOT_AVAILABLE,
  [ResponseCode.SERVICE_NOT_AVAILABLE]: Code.INTERNAL_SERVER_ERROR,
  [ResponseCode.ILLEGAL_OPERATION]: Code.BAD_REQUEST,
};

export function codeFromRemoting(code: number): number {
  return FROM_REMOTING[code] ?? Code.INTERNAL_SERVER_ERROR;
}

/** An error a handler throws to answer with a Status instead of a gRPC error. */
export class ProxyError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'ProxyError';
  }
}
