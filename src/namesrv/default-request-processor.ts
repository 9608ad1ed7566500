// The name server's request handlers (RocketMQ DefaultRequestProcessor + ClientRequestProcessor).
import { bodyCrc } from '../common/crc.js';
import type { Logger } from '../common/logger.js';
import {
  BrokerError,
  RequestCode,
  ResponseCode,
  bodyOf,
  createResponse,
  decodeHeader,
  type RemotingChannel,
  type RemotingCommand,
  type RemotingServer,
} from '../remoting/index.js';
import {
  BodyFormatError,
  BROKER_ADDR_HEADER,
  decodeRegisterBrokerBody,
  DELETE_TOPIC_IN_NAMESRV_HEADER,
  encodeHeader,
  GET_KV_CONFIG_RESPONSE_HEADER,
  GET_TOPICS_BY_CLUSTER_HEADER,
  KV_KEY_HEADER,
  KV_NAMESPACE_HEADER,
  NAMESPACE_ORDER_TOPIC_CONFIG,
  PUT_KV_CONFIG_HEADER,
  QUERY_DATA_VERSION_RESPONSE_HEADER,
  REGISTER_BROKER_HEADER,
  REGISTER_BROKER_RESPONSE_HEADER,
  toDataVersion,
  TOPIC_ROUTE_HEADER,
  UNREGISTER_BROKER_HEADER,
  type QueueData,
} from '../remoting/protocol/index.js';
import type { KVConfigManager } from './kv-config-manager.js';
import type { RouteInfoManager } from './route-info-manager.js';

export interface NamesrvProcessorOptions {
  orderMessageEnable: boolean;
  logger: Logger;
}

const ok = (body?: Buffer, ext?: Record<string, string | undefined>): RemotingCommand =>
  createResponse(ResponseCode.SUCCESS, undefined, ext, body);

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

function parseJsonBody(req: RemotingCommand, what: string): unknown {
  try {
    return JSON.parse(bodyOf(req).toString('utf8'));
  } catch {
    throw new BrokerError(ResponseCode.INVALID_PARAMETER, `${what}: body is not valid JSON`);
  }
}

export class DefaultRequestProcessor {
  constructor(
    private readonly routes: RouteInfoManager,
    private readonly kv: KVConfigManager,
    private readonly opts: NamesrvProcessorOptions,
  ) {}

  /** Installs every handler on the server. */
  registerOn(server: RemotingServer): void {
    const table: [number, (req: RemotingCommand, ch: RemotingChannel) => RemotingCommand | Promise<RemotingCommand>][] = [
      [RequestCode.PUT_KV_CONFIG, (r) => this.putKVConfig(r)],
      [RequestCode.GET_KV_CONFIG, (r) => this.getKVConfig(r)],
      [RequestCode.DELETE_KV_CONFIG, (r) => this.deleteKVConfig(r)],
      [RequestCode.GET_KVLIST_BY_NAMESPACE, (r) => this.getKVListByNamespace(r)],
      [RequestCode.REGISTER_BROKER, (r, ch) => this.registerBroker(r, ch)],
      [RequestCode.UNREGISTER_BROKER, (r) => this.unregisterBroker(r)],
      [RequestCode.BROKER_HEARTBEAT, (r) => this.brokerHeartbeat(r)],
      [RequestCode.QUERY_DATA_VERSION, (r) => this.queryDataVersion(r)],
      [RequestCode.GET_ROUTEINFO_BY_TOPIC, (r) => this.getRouteInfoByTopic(r)],
      [RequestCode.GET_BROKER_CLUSTER_INFO, () => ok(json(this.routes.getAllClusterInfo()))],
      [RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, () => ok(json({ topicList: this.routes.getAllTopicList() }))],
      [RequestCode.DELETE_TOPIC_IN_NAMESRV, (r) => this.deleteTopic(r)],
      [RequestCode.REGISTER_TOPIC_IN_NAMESRV, (r) => this.registerTopic(r)],
      [RequestCode.GET_TOPICS_BY_CLUSTER, (r) => this.getTopicsByCluster(r)],
    ];
    for (const [code, handler] of table) server.registerProcessor(code, handler);
  }

  registerBroker(req: RemotingCommand, ch: RemotingChannel): RemotingCommand {
    const h = decodeHeader(REGISTER_BROKER_HEADER, req.extFields);
    const body = bodyOf(req);
    // Java sends crc32 & 0x7fffffff, and 0 means "not computed".
    if (h.bodyCrc32 !== undefined && h.bodyCrc32 !== 0 && h.bodyCrc32 !== bodyCrc(body)) {
      this.opts.logger.warn({ broker: h.brokerAddr, peer: ch.remoteAddress }, 'register broker: body crc32 mismatch');
      return createResponse(ResponseCode.SYSTEM_ERROR, 'crc32 not match');
    }
    let decoded;
    try {
      decoded = decodeRegisterBrokerBody(body, h.compressed ?? false);
    } catch (err) {
      if (err instanceof BodyFormatError) {
        throw new BrokerError(ResponseCode.INVALID_PARAMETER, `REGISTER_BROKER: malformed body: ${err.message}`);
      }
      throw err;
    }
    const result = this.routes.registerBroker({
      clusterName: h.clusterName,
      brokerAddr: h.brokerAddr,
      brokerName: h.brokerName,
      brokerId: h.brokerId,
      haServerAddr: h.haServerAddr ?? '',
      zoneName: h.zoneName,
      heartbeatTimeoutMillis: h.heartbeatTimeoutMillis,
      enableActingMaster: h.enableActingMaster,
      body: decoded,
      channel: ch,
    });
    if (result === null) {
      return createResponse(ResponseCode.SYSTEM_ERROR, 'register broker refused: a newer broker state holds this id');
    }
    this.opts.logger.debug({ broker: h.brokerName, addr: h.brokerAddr, id: h.brokerId }, 'broker registered');
    return ok(
      this.kv.getKVListByNamespace(NAMESPACE_ORDER_TOPIC_CONFIG),
      encodeHeader(REGISTER_BROKER_RESPONSE_HEADER, { haServerAddr: result.haServerAddr, masterAddr: result.masterAddr }),
    );
  }

  unregisterBroker(req: RemotingCommand): RemotingCommand {
    const h = decodeHeader(UNREGISTER_BROKER_HEADER, req.extFields);
    this.routes.unregisterBroker(h);
    this.opts.logger.info({ broker: h.brokerName, addr: h.brokerAddr }, 'broker unregistered');
    return ok();
  }

  brokerHeartbeat(req: RemotingCommand): RemotingCommand {
    const h = decodeHeader(BROKER_ADDR_HEADER, req.extFields);
    this.routes.updateBrokerInfoUpdateTimestamp(h.clusterName, h.brokerAddr);
    return ok();
  }

  queryDataVersion(req: RemotingCommand): RemotingCommand {
    const h = decodeHeader(BROKER_ADDR_HEADER, req.extFields);
    const incoming = toDataVersionOrThrow(parseJsonBody(req, 'QUERY_DATA_VERSION'));
    const changed = this.routes.isBrokerTopicConfigChanged(h.clusterName, h.brokerAddr, incoming);
    this.routes.updateBrokerInfoUpdateTimestamp(h.clusterName, h.brokerAddr);
    const held = this.routes.queryBrokerTopicConfig(h.clusterName, h.brokerAddr);
    return ok(held ? json(held) : undefined, encodeHeader(QUERY_DATA_VERSION_RESPONSE_HEADER, { changed }));
  }

  getRouteInfoByTopic(req: RemotingCommand): RemotingCommand {
    const { topic } = decodeHeader(TOPIC_ROUTE_HEADER, req.extFields);
    const route = this.routes.pickupTopicRouteData(topic);
    if (!route) {
      return createResponse(ResponseCode.TOPIC_NOT_EXIST, `No topic route info in name server for the topic: ${topic}`);
    }
    if (this.opts.orderMessageEnable) {
      const conf = this.kv.get(NAMESPACE_ORDER_TOPIC_CONFIG, topic);
      if (conf !== undefined) route.orderTopicConf = conf;
    }
    // Standard JSON (quoted "0" keys) for every client: ali-ons' JSON2 and Java both read it.
    return ok(json(route));
  }

  deleteTopic(req: RemotingCommand): RemotingCommand {
    const h = decodeHeader(DELETE_TOPIC_IN_NAMESRV_HEADER, req.extFields);
    this.routes.deleteTopic(h.topic, h.clusterName);
    return ok();
  }

  registerTopic(req: RemotingCommand): RemotingCommand {
    const { topic } = decodeHeader(TOPIC_ROUTE_HEADER, req.extFields);
    const body = parseJsonBody(req, 'REGISTER_TOPIC_IN_NAMESRV') as { queueDatas?: unknown } | null;
    const list = body?.queueDatas;
    if (!Array.isArray(list)) throw new BrokerError(ResponseCode.INVALID_PARAMETER, 'REGISTER_TOPIC_IN_NAMESRV: body has no queueDatas list');
    this.routes.registerTopic(topic, list.map(toQueueData));
    return ok();
  }

  getTopicsByCluster(req: RemotingCommand): RemotingCommand {
    const { cluster } = decodeHeader(GET_TOPICS_BY_CLUSTER_HEADER, req.extFields);
    return ok(json({ topicList: this.routes.getTopicsByCluster(cluster) }));
  }

  async putKVConfig(req: RemotingCommand): Promise<RemotingCommand> {
    const h = decodeHeader(PUT_KV_CONFIG_HEADER, req.extFields);
    await this.kv.put(h.namespace, h.key, h.value);
    return ok();
  }

  getKVConfig(req: RemotingCommand): RemotingCommand {
    const h = decodeHeader(KV_KEY_HEADER, req.extFields);
    const value = this.kv.get(h.namespace, h.key);
    if (value === undefined) {
      return createResponse(ResponseCode.QUERY_NOT_FOUND, `No config item, Namespace: ${h.namespace} Key: ${h.key}`);
    }
    return ok(undefined, encodeHeader(GET_KV_CONFIG_RESPONSE_HEADER, { value }));
  }

  async deleteKVConfig(req: RemotingCommand): Promise<RemotingCommand> {
    const h = decodeHeader(KV_KEY_HEADER, req.extFields);
    await this.kv.delete(h.namespace, h.key);
    return ok();
  }

  getKVListByNamespace(req: RemotingCommand): RemotingCommand {
    const { namespace } = decodeHeader(KV_NAMESPACE_HEADER, req.extFields);
    const body = this.kv.getKVListByNamespace(namespace);
    if (!body) return createResponse(ResponseCode.QUERY_NOT_FOUND, `No config item, Namespace: ${namespace}`);
    return ok(body);
  }
}

function toDataVersionOrThrow(v: unknown) {
  try {
    return toDataVersion(v);
  } catch (err) {
    throw new BrokerError(ResponseCode.INVALID_PARAMETER, `QUERY_DATA_VERSION: ${(err as Error).message}`);
  }
}

function toQueueData(v: unknown): QueueData {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const int = (name: string, fallback: number): number => {
    const n = o[name] === undefined ? fallback : Number(o[name]);
    if (!Number.isInteger(n)) throw new BrokerError(ResponseCode.INVALID_PARAMETER, `REGISTER_TOPIC_IN_NAMESRV: queueData ${name} is not an integer`);
    return n;
  };
  if (typeof o.brokerName !== 'string' || o.brokerName === '') {
    throw new BrokerError(ResponseCode.INVALID_PARAMETER, 'REGISTER_TOPIC_IN_NAMESRV: queueData without brokerName');
  }
  return {
    brokerName: o.brokerName,
    readQueueNums: int('readQueueNums', 0),
    writeQueueNums: int('writeQueueNums', 0),
    perm: int('perm', 6),
    topicSysFlag: int('topicSysFlag', 0),
  };
}
