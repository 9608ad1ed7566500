import { ResponseCode } from './response-code.js';

/**
 * An error that crosses the wire: a processor that throws it is answered with `code` and `remark`.
 * Any other thrown error becomes SYSTEM_ERROR with a one-line remark.
 */
export class BrokerError extends Error {
  readonly code: number;
  readonly remark: string;

  constructor(code: number, remark: string, options?: { cause?: unknown }) {
    super(remark, options);
    this.name = 'BrokerError';
    this.code = code;
    this.remark = remark;
  }

  static invalid(remark: string): BrokerError {
    return new BrokerError(ResponseCode.INVALID_PARAMETER, remark);
  }
}

/** Raised by the codec for input that cannot be a frame; the connection is closed. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}
