// QueryRoute and QueryAssignment. Every broker group serving the topic is listed under its own
// name, and advertised at the endpoint the client already reached (so it is always reachable).
import { isReadable, isWriteable, type TopicConfig } from '../remoting/protocol/index.js';
import { Code, OK_STATUS, ProxyError } from './grpc-code.js';
import { MessageType } from './message-converter.js';
import type { TopicBroker } from './backend/proxy-backend.js';
import type { ProxyContext } from './proxy-context.js';
import { LITE_MESSAGE_TYPE } from './lite-activity.js';

const Permission = { NONE: 1, READ: 2, WRITE: 3, READ_WRITE: 4 } as const;

export interface PbEndpoints {
  scheme?: number;
  addresses?: { host?: string; port?: number }[];
}

/** "+message.type" of a topic; RocketMQ's default is NORMAL. */
export function topicMessageType(tc: TopicConfig): string {
  return (tc.attributes?.['+message.type'] ?? tc.attributes?.['message.type'] ?? 'NORMAL').toUpperCase();
}

export function acceptedTypes(tc: TopicConfig): number[] {
  switch (topicMessageType(tc)) {
    case 'FIFO':
      return [MessageType.FIFO];
    case 'DELAY':
      return [MessageType.DELAY];
    case 'TRANSACTION':
      return [MessageType.TRANSACTION];
    case 'LITE':
      return [LITE_MESSAGE_TYPE];
    case 'MIXED':
      return [MessageType.NORMAL, MessageType.FIFO, MessageType.DELAY, MessageType.TRANSACTION];
    default:
      return [MessageType.NORMAL];
  }
}

export async function requireTopic(ctx: ProxyContext, name: string | undefined): Promise<TopicConfig> {
  if (!name) throw new ProxyError(Code.ILLEGAL_TOPIC, 'topic name is empty');
  const tc = await ctx.backend.getTopicConfig(name);
  if (!tc) throw new ProxyError(Code.TOPIC_NOT_FOUND, `topic ${name} not found; create it first (apogee admin updateTopic -t ${name})`);
  return tc;
}

function permissionOf(perm: number): number {
  const r = isReadable(perm);
  const w = isWriteable(perm);
  return r && w ? Permission.READ_WRITE : r ? Permission.READ : w ? Permission.WRITE : Permission.NONE;
}

/** The broker groups serving a topic; cluster mode may have several, each with its own queues. */
async function topicBrokers(ctx: ProxyContext, tc: TopicConfig): Promise<TopicBroker[]> {
  const brokers = await ctx.backend.brokersOf(tc.topicName);
  if (brokers.length === 0) throw new ProxyError(Code.TOPIC_NOT_FOUND, `topic ${tc.topicName} has no broker serving it`);
  return brokers;
}

/** Queues of every broker group, each advertised at the endpoint the client already reached. */
export async function queryRoute(ctx: ProxyContext, req: { topic?: { name?: string }; endpoints?: PbEndpoints }): Promise<unknown> {
  const tc = await requireTopic(ctx, req.topic?.name);
  const endpoints = req.endpoints?.addresses?.length ? req.endpoints : { scheme: 1, addresses: [{ host: '127.0.0.1', port: 0 }] };
  const messageQueues = [];
  for (const b of await topicBrokers(ctx, tc)) {
    const queues = Math.max(b.readQueueNums, b.writeQueueNums);
    for (let id = 0; id < queues; id++) {
      let perm = 0;
      if (id < b.readQueueNums) perm |= 4;
      if (id < b.writeQueueNums) perm |= 2;
      messageQueues.push({
        topic: { name: tc.topicName, resourceNamespace: '' },
        id,
        permission: permissionOf(perm & b.perm),
        broker: { name: b.name, id: 0, endpoints },
        acceptMessageTypes: acceptedTypes(tc),
      });
    }
  }
  return { status: OK_STATUS, messageQueues };
}

/**
 * Non-FIFO groups get one assignment per broker group (id -1: that group pops all its queues);
 * FIFO groups one per queue of each group.
 */
export async function queryAssignment(
  ctx: ProxyContext,
  req: { topic?: { name?: string }; group?: { name?: string }; endpoints?: PbEndpoints },
): Promise<unknown> {
  const tc = await requireTopic(ctx, req.topic?.name);
  const group = req.group?.name;
  if (!group) throw new ProxyError(Code.ILLEGAL_CONSUMER_GROUP, 'consumer group is empty');
  const sg = await ctx.backend.getGroupConfig(group);
  if (!sg) throw new ProxyError(Code.CONSUMER_GROUP_NOT_FOUND, `consumer group ${group} not found`);
  const readable = (await topicBrokers(ctx, tc)).filter((b) => isReadable(b.perm) && b.readQueueNums > 0);
  if (!isReadable(tc.perm) || readable.length === 0) throw new ProxyError(Code.FORBIDDEN, `topic ${tc.topicName} has no readable queue`);
  const endpoints = req.endpoints?.addresses?.length ? req.endpoints : { scheme: 1, addresses: [] };
  const mq = (b: TopicBroker, id: number): unknown => ({
    messageQueue: {
      topic: { name: tc.topicName, resourceNamespace: '' },
      id,
      permission: Permission.READ_WRITE,
      broker: { name: b.name, id: 0, endpoints },
      acceptMessageTypes: acceptedTypes(tc),
    },
  });
  // A lite parent is ordered per lite topic by the broker, so one receive stream per group suffices.
  const perQueue = sg.consumeMessageOrderly && topicMessageType(tc) !== 'LITE';
  const assignments = readable.flatMap((b) => (perQueue ? Array.from({ length: b.readQueueNums }, (_, i) => mq(b, i)) : [mq(b, -1)]));
  return { status: OK_STATUS, assignments };
}
