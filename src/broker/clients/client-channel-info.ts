import type { RemotingChannel } from '../../remoting/index.js';

export interface ClientChannelInfo {
  channel: RemotingChannel;
  clientId: string;
  language: string;
  version: number;
  lastUpdateTimestamp: number;
}
