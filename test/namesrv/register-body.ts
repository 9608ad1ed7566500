// Builds REGISTER_BROKER requests the way a Java broker does, for the name server tests.
import { deflateSync, constants } from 'node:zlib';
import { bodyCrc } from '../../src/common/crc.js';
import { RequestCode, createRequest, type RemotingCommand } from '../../src/remoting/index.js';

export interface TopicSpec {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
}

export interface BrokerSpec {
  clusterName?: string;
  brokerName: string;
  brokerAddr: string;
  brokerId?: number;
  haServerAddr?: string;
  topics: TopicSpec[];
  dataVersion?: { timestamp: number; counter: number; stateVersion?: number };
  heartbeatTimeoutMillis?: number;
  enableActingMaster?: boolean;
}

function dataVersionOf(b: BrokerSpec) {
  return { stateVersion: 0, ...(b.dataVersion ?? { timestamp: 1700000000000, counter: 1 }) };
}

export function plainBody(b: BrokerSpec): Buffer {
  const topicConfigTable: Record<string, unknown> = {};
  for (const t of b.topics) {
    topicConfigTable[t.topicName] = { ...t, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false, attributes: {} };
  }
  return Buffer.from(
    JSON.stringify({ topicConfigSerializeWrapper: { topicConfigTable, dataVersion: dataVersionOf(b) }, filterServerList: [] }),
  );
}

function lengthPrefixed(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(4);
  len.writeInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

/** The compressed form: deflate(best) of [len][DataVersion JSON][count]{[len]["name r w perm SINGLE_TAG"]}[len][filters][0]. */
export function compressedBody(b: BrokerSpec): Buffer {
  const parts = [lengthPrefixed(JSON.stringify(dataVersionOf(b))), int32(b.topics.length)];
  for (const t of b.topics) {
    parts.push(lengthPrefixed(`${t.topicName} ${t.readQueueNums} ${t.writeQueueNums} ${t.perm} SINGLE_TAG`));
  }
  parts.push(lengthPrefixed('[]'), int32(0));
  return deflateSync(Buffer.concat(parts), { level: constants.Z_BEST_COMPRESSION });
}

export function registerRequest(b: BrokerSpec, opts: { compressed?: boolean; crc?: number; body?: Buffer } = {}): RemotingCommand {
  const body = opts.body ?? (opts.compressed ? compressedBody(b) : plainBody(b));
  return createRequest(
    RequestCode.REGISTER_BROKER,
    {
      brokerName: b.brokerName,
      brokerAddr: b.brokerAddr,
      clusterName: b.clusterName ?? 'DefaultCluster',
      haServerAddr: b.haServerAddr ?? b.brokerAddr.replace(/:\d+$/, ':10912'),
      brokerId: b.brokerId ?? 0,
      compressed: opts.compressed ?? false,
      bodyCrc32: opts.crc ?? bodyCrc(body),
      heartbeatTimeoutMillis: b.heartbeatTimeoutMillis,
      enableActingMaster: b.enableActingMaster,
    },
    body,
  );
}
