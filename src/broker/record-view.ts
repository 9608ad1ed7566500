// Reads single fields of a stored record without decoding the whole message.
import { decodeMessage, type MessageRecord } from '../common/message-codec.js';

/** The properties string of a whole stored record (CRC not re-checked: the store did that). */
export function readRecordProperties(record: Buffer): string {
  return decodeMessage(record, 0, { checkCrc: false }).properties;
}

export function decodeRecord(record: Buffer): MessageRecord {
  return decodeMessage(record, 0, { checkCrc: false });
}

// Peer addresses are parsed in common (the proxy needs it without the broker).
export { hostPortOf } from '../common/message-host.js';
