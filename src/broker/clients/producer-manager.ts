// Live producers per group: transaction check-backs need a channel of the message's producer group.
import type { RemotingChannel } from '../../remoting/index.js';
import type { ClientChannelInfo } from './client-channel-info.js';

export class ProducerManager {
  private readonly table = new Map<string, Map<RemotingChannel, ClientChannelInfo>>();

  registerProducer(group: string, info: ClientChannelInfo): void {
    let m = this.table.get(group);
    if (!m) {
      m = new Map();
      this.table.set(group, m);
    }
    m.set(info.channel, info);
  }

  unregisterProducer(group: string, channel: RemotingChannel): void {
    const m = this.table.get(group);
    if (!m) return;
    m.delete(channel);
    if (m.size === 0) this.table.delete(group);
  }

  doChannelCloseEvent(channel: RemotingChannel): void {
    for (const group of [...this.table.keys()]) this.unregisterProducer(group, channel);
  }

  scanNotActiveChannel(timeoutMs: number, now = Date.now()): void {
    for (const [group, m] of [...this.table]) {
      for (const [ch, info] of [...m]) {
        if (now - info.lastUpdateTimestamp > timeoutMs) {
          ch.close();
          this.unregisterProducer(group, ch);
        }
      }
    }
  }

  /** A live channel of the group, rotating among them; undefined when none is connected. */
  getAvailableChannel(group: string): RemotingChannel | undefined {
    const m = this.table.get(group);
    if (!m) return undefined;
    const live = [...m.keys()].filter((c) => !c.closed);
    if (live.length === 0) return undefined;
    return live[Math.floor(Math.random() * live.length)];
  }

  groupChannels(group: string): ClientChannelInfo[] {
    return [...(this.table.get(group)?.values() ?? [])];
  }

  get groups(): string[] {
    return [...this.table.keys()];
  }
}
