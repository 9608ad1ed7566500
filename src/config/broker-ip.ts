import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/**
 * The address a broker advertises when brokerIP1 is empty: the first non-internal IPv4
 * address, else 127.0.0.1 (RocketMQ picks a site-local address the same way).
 */
export function pickBrokerIP1(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string {
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4' && !info.internal) return info.address;
    }
  }
  return '127.0.0.1';
}
