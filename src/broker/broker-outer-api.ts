// The broker's calls to the name servers: register (with topic configs and data version) and unregister.
import type { Logger } from '../common/logger.js';
import { bodyCrc } from '../common/crc.js';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../remoting/index.js';
import {
  encodeHeader,
  encodeCompressedRegisterBrokerBody,
  encodeRegisterBrokerBody,
  REGISTER_BROKER_HEADER,
  UNREGISTER_BROKER_HEADER,
  type TopicConfigSerializeWrapper,
} from '../remoting/protocol/index.js';

export interface BrokerIdentity {
  clusterName: string;
  brokerName: string;
  brokerId: number;
  brokerAddr: string;
  haServerAddr: string;
  heartbeatTimeoutMillis: number;
}

export class BrokerOuterAPI {
  /** The group's master as the name servers last answered a registration (slaves replicate from it). */
  master: { masterAddr?: string; haAddr?: string } = {};

  constructor(
    private readonly client: RemotingClient,
    private readonly namesrvAddrs: readonly string[],
    private readonly logger: Logger,
  ) {}

  /**
   * Registers with every name server in parallel; resolves with how many accepted. The wrapper is
   * the whole topic table or, after a change, only the changed topics: name servers merge what a
   * registration carries. compressed sends Java's compressed form (compressedRegister).
   */
  async registerBrokerAll(id: BrokerIdentity, topicConfigWrapper: TopicConfigSerializeWrapper, compressed = false): Promise<number> {
    const body = compressed ? encodeCompressedRegisterBrokerBody(topicConfigWrapper) : encodeRegisterBrokerBody(topicConfigWrapper);
    const header = encodeHeader(REGISTER_BROKER_HEADER, {
      brokerName: id.brokerName,
      brokerAddr: id.brokerAddr,
      clusterName: id.clusterName,
      haServerAddr: id.haServerAddr,
      brokerId: id.brokerId,
      heartbeatTimeoutMillis: id.heartbeatTimeoutMillis,
      compressed,
      bodyCrc32: bodyCrc(body),
    });
    const results = await Promise.allSettled(
      this.namesrvAddrs.map(async (addr) => {
        const resp = await this.client.invoke(addr, createRequest(RequestCode.REGISTER_BROKER, header, body), 6000);
        if (resp.code !== ResponseCode.SUCCESS) throw new Error(`namesrv ${addr} refused registration: ${resp.code} ${resp.remark ?? ''}`);
        if (id.brokerId > 0) this.master = { masterAddr: resp.extFields.masterAddr || undefined, haAddr: resp.extFields.haServerAddr || undefined };
      }),
    );
    let ok = 0;
    for (const r of results) {
      if (r.status === 'fulfilled') ok++;
      else this.logger.warn({ err: (r.reason as Error).message }, 'register broker to name server failed');
    }
    return ok;
  }

  async unregisterBrokerAll(id: BrokerIdentity): Promise<void> {
    const header = encodeHeader(UNREGISTER_BROKER_HEADER, {
      brokerName: id.brokerName,
      brokerAddr: id.brokerAddr,
      clusterName: id.clusterName,
      brokerId: id.brokerId,
    });
    await Promise.allSettled(this.namesrvAddrs.map((addr) => this.client.invoke(addr, createRequest(RequestCode.UNREGISTER_BROKER, header), 3000)));
  }
}
