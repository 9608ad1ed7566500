// Hosts as stored in records: 4 (IPv4) or 16 (IPv6) address bytes followed by an int32 port.
// 4.x clients (ali-ons) only decode IPv4 hosts, so the IPv4-mapped and loopback IPv6 forms Node
// reports for local peers are folded to IPv4 before encoding.
import { isIPv4, isIPv6 } from 'node:net';

export interface HostPort {
  address: string;
  port: number;
}

/** Maps `::ffff:a.b.c.d` to `a.b.c.d` and `::1` to `127.0.0.1`; other addresses pass through. */
export function normalizeAddress(address: string): string {
  if (address.startsWith('::ffff:') && isIPv4(address.slice(7))) return address.slice(7);
  if (address === '::1') return '127.0.0.1';
  return address;
}

// Brokers see few distinct addresses, so their encoded bytes are cached (bounded) to keep
// address parsing off the per-message path.
const addressCache = new Map<string, Buffer>();
const ADDRESS_CACHE_MAX = 1024;

function addressBytes(address: string): Buffer {
  let b = addressCache.get(address);
  if (b === undefined) {
    const tmp = Buffer.allocUnsafe(16);
    const n = parseAddressInto(tmp, address, 0);
    b = Buffer.from(tmp.subarray(0, n));
    if (addressCache.size >= ADDRESS_CACHE_MAX) addressCache.clear();
    addressCache.set(address, b);
  }
  return b;
}

/** True when the (normalized) address needs the 16-byte IPv6 form. Throws on a non-IP string. */
export function isV6Address(address: string): boolean {
  return addressBytes(address).length === 16;
}

/** Writes the address bytes (4 or 16) at pos; returns the number of bytes written. */
export function writeAddress(buf: Buffer, address: string, pos: number): number {
  return addressBytes(address).copy(buf, pos);
}

function parseAddressInto(buf: Buffer, address: string, pos: number): number {
  const a = normalizeAddress(address);
  if (isIPv4(a)) {
    let p = pos;
    let n = 0;
    for (let i = 0; i <= a.length; i++) {
      const c = i < a.length ? a.charCodeAt(i) : 46;
      if (c === 46) {
        buf[p++] = n;
        n = 0;
      } else n = n * 10 + (c - 48);
    }
    return 4;
  }
  if (!isIPv6(a)) throw new Error(`not an IP address: ${JSON.stringify(address)}`);
  const groups = ipv6Groups(a);
  for (let i = 0; i < 8; i++) buf.writeUInt16BE(groups[i], pos + i * 2);
  return 16;
}

function ipv6Groups(a: string): number[] {
  let s = a;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (isIPv4(last)) {
    // An embedded dotted quad is two more hex groups.
    const q = last.split('.').map(Number);
    s = s.slice(0, lastColon + 1) + ((q[0] << 8) | q[1]).toString(16) + ':' + ((q[2] << 8) | q[3]).toString(16);
  }
  const parse = (x: string): number[] => (x.length ? x.split(':').map((g) => parseInt(g, 16)) : []);
  const dbl = s.indexOf('::');
  if (dbl < 0) return parse(s);
  const head = parse(s.slice(0, dbl));
  const rest = parse(s.slice(dbl + 2));
  return [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
}

/** Reads 4 or 16 address bytes back into text (IPv6 as eight uncompressed hex groups). */
export function readAddress(buf: Buffer, pos: number, v6: boolean): string {
  if (!v6) return `${buf[pos]}.${buf[pos + 1]}.${buf[pos + 2]}.${buf[pos + 3]}`;
  const g: string[] = [];
  for (let i = 0; i < 8; i++) g.push(buf.readUInt16BE(pos + i * 2).toString(16));
  return g.join(':');
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
