// GET_LITE_TOPIC_LIST (Apogee's own request, 880180): a LITE parent's lite topics with their
// message counts and each group's backlog, for `apogee admin liteTopicList`.
import { silentLogger } from '../../common/logger.js';
import { BrokerError, createResponse, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import { liteServiceOf } from './index.js';
import { isLiteParent } from './lite-names.js';
import type { LiteHost } from './lite-service.js';

import { GET_LITE_TOPIC_LIST } from '../../remoting/protocol/index.js';

export { GET_LITE_TOPIC_LIST };
const MAX_LIMIT = 100_000;

export interface LiteTopicListBody {
  topic: string;
  /** Lite topics the parent holds. */
  total: number;
  /** Of those, the ones whose name starts with the prefix. */
  matched: number;
  liteTopics: { name: string; queueId: number; count: number; lastStoreTime: number; backlog: Record<string, number> }[];
  /** Lite topics each consumer group subscribes to under this parent (live subscriptions). */
  subscriptions: { group: string; count: number }[];
}

export class LiteAdminProcessor {
  constructor(private readonly host: LiteHost) {}

  readonly list = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const topic = req.extFields.topic;
    if (!topic) throw new BrokerError(ResponseCode.INVALID_PARAMETER, 'the topic field is missing');
    const tc = this.host.topicConfigManager.selectTopicConfig(topic);
    if (!tc) throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic ${topic} does not exist on this broker`);
    if (!isLiteParent(tc)) throw new BrokerError(ResponseCode.INVALID_PARAMETER, `topic ${topic} is not a LITE topic (+message.type=LITE)`);
    const limit = req.extFields.limit === undefined ? 1000 : Number(req.extFields.limit);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new BrokerError(ResponseCode.INVALID_PARAMETER, `limit must be 1..${MAX_LIMIT}, got ${req.extFields.limit}`);
    const svc = await liteServiceOf(this.host);
    const all = svc.list(topic, req.extFields.prefix ?? '');
    const body: LiteTopicListBody = {
      topic,
      total: svc.table.countOf(topic),
      matched: all.length,
      liteTopics: all.slice(0, limit),
      subscriptions: svc.subscriptionCounts().filter((s) => s.parent === topic).map(({ group, count }) => ({ group, count })),
    };
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify(body)));
  };
}

/** The processor over a broker's parts and services (the lite service is shared with its gRPC endpoint, by store). */
export function liteAdminProcessor(parts: Omit<LiteHost, 'logger' | 'services'> & { logger?: LiteHost['logger'] }, services: LiteHost['services']): LiteAdminProcessor {
  return new LiteAdminProcessor({ store: parts.store, topicConfigManager: parts.topicConfigManager, config: parts.config, logger: parts.logger ?? silentLogger, services });
}
