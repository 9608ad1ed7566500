// Errors the client raises: MQBrokerError for a broker/namesrv answer other than success
// (carries the response code, as Java's MQBrokerException does), MQClientError for the rest.
import { responseCodeName } from '../remoting/index.js';

export class MQClientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MQClientError';
  }
}

export class MQBrokerError extends MQClientError {
  constructor(
    readonly code: number,
    readonly remark: string,
    readonly addr: string,
  ) {
    super(`CODE: ${code} (${responseCodeName(code)}) DESC: ${remark || '-'} (from ${addr})`);
    this.name = 'MQBrokerError';
  }
}
