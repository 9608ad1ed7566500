// Reads single fields of a stored record without decoding the whole message.
import { decodeMessage, type MessageRecord } from '../common/message-codec.js';
import type { HostPort } from '../common/message-host.js';

/** The properties string of a whole stored record (CRC not re-checked: the store did that). */
export function readRecordProperties(record: Buffer): string {
  return decodeMessage(record, 0, { checkCrc: false }).properties;
}

export function decodeRecord(record: Buffer): MessageRecord {
  return decodeMessage(record, 0, { checkCrc: false });
}

let lastAddr = '';
let lastHostPort: HostPort = { address: '127.0.0.1', port: 0 };

/** "ip:port" or "[v6]:port" → HostPort; the same peer address (one connection's sends) parses once. */
export function hostPortOf(addr: string): HostPort {
  if (addr === lastAddr) return lastHostPort;
  lastHostPort = parseHostPort(addr);
  lastAddr = addr;
  return lastHostPort;
}

function parseHostPort(addr: string): HostPort {
  const m = /^\[(.+)\]:(\d+)$/.exec(addr) ?? /^(.*):(\d+)$/.exec(addr);
  if (!m) return { address: '127.0.0.1', port: 0 };
  return { address: m[1], port: Number(m[2]) };
}
