// 5.x clients connected to a broker's in-process gRPC endpoint, as rows of the connection gauges
// (protocol_type="grpc"): the broker's own tables only know remoting clients.
import type { BrokerMetricsView, ConnectionCount } from '../observability/metrics/index.js';
import { ClientType, type ClientManager } from '../proxy/client-manager.js';

/** apache.rocketmq.v2.Language by number, named as the remoting LanguageCode the label uses (lower case). */
const LANGUAGES = ['other', 'java', 'cpp', 'dotnet', 'go', 'rust', 'python', 'php', 'node_js', 'ruby', 'other', 'other', 'other'];

function rowOf(c: ReturnType<ClientManager['values']> extends Iterator<infer G> ? G : never): ConnectionCount {
  const ua = c.settings?.userAgent;
  return {
    group: c.group ?? '',
    language: LANGUAGES[ua?.language ?? 0] ?? 'other',
    version: ua?.version ?? '',
    // 5.x push and simple consumers receive by pop; the pull consumer pulls.
    consumeMode: c.clientType === ClientType.PULL_CONSUMER ? 'pull' : 'pop',
    protocol: 'grpc',
    count: 1,
  };
}

/** The view with the live gRPC clients added to its connection rows. */
export function withGrpcConnections(view: BrokerMetricsView, clients: Pick<ClientManager, 'values' | 'isAlive'>): BrokerMetricsView {
  const live = (accept: (type: number) => boolean): ConnectionCount[] => {
    const out: ConnectionCount[] = [];
    for (const c of clients.values()) if (accept(c.clientType) && clients.isAlive(c.clientId)) out.push(rowOf(c));
    return out;
  };
  return {
    ...view,
    // Spread copies own properties only; the view's methods may live on its prototype.
    identity: () => view.identity(),
    topicOffsets: () => view.topicOffsets(),
    topicCount: () => view.topicCount(),
    groupCount: () => view.groupCount(),
    topicMessageType: (t) => view.topicMessageType(t),
    consumerProgress: (p) => view.consumerProgress(p),
    store: () => view.store(),
    timer: () => view.timer(),
    delayLevels: () => view.delayLevels(),
    halfMessages: () => view.halfMessages(),
    producerConnections: () => [...view.producerConnections(), ...live((t) => t === ClientType.PRODUCER)],
    consumerConnections: () => [...view.consumerConnections(), ...live((t) => t !== ClientType.PRODUCER && t !== 0)],
  };
}
