// Topic and group naming rules (RocketMQ TopicValidator), next to the TopicConfig they guard.
import { MixAll, TopicValidator } from '../common/message-const.js';

// The wire types are the protocol's; this file adds the broker's naming rules.
export { isReadable, isWriteable, PermName, permToString } from '../remoting/protocol/route.js';
export { newTopicConfig, type TopicConfig, type TopicFilterType } from '../remoting/protocol/topic-config.js';

const TOPIC_RE = /^[%|a-zA-Z0-9_-]+$/;
export const TOPIC_MAX_LENGTH = 127;

/** Topics clients may never send to directly (RocketMQ TopicValidator.NOT_ALLOWED_SEND_TOPIC_SET). */
export const NOT_ALLOWED_SEND_TOPICS: ReadonlySet<string> = new Set([
  TopicValidator.RMQ_SYS_SCHEDULE_TOPIC,
  TopicValidator.RMQ_SYS_TRANS_HALF_TOPIC,
  TopicValidator.RMQ_SYS_TRANS_OP_HALF_TOPIC,
  TopicValidator.RMQ_SYS_TRANS_CHECK_MAX_TIME_TOPIC,
  TopicValidator.RMQ_SYS_SELF_TEST_TOPIC,
  TopicValidator.RMQ_SYS_OFFSET_MOVED_EVENT,
]);

export function isRetryOrDlqTopic(topic: string): boolean {
  return topic.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX) || topic.startsWith(MixAll.DLQ_GROUP_TOPIC_PREFIX);
}

/** Returns why a topic name is invalid, or undefined when it is fine (RocketMQ's TopicValidator wording). */
export function validateTopicName(topic: string | undefined): string | undefined {
  if (!topic) return 'The specified topic is blank.';
  const max = isRetryOrDlqTopic(topic) ? 255 : TOPIC_MAX_LENGTH;
  if (topic.length > max) return `The specified topic is longer than topic max length ${max}.`;
  if (!TOPIC_RE.test(topic)) {
    return `The specified topic[${topic}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`;
  }
  return undefined;
}

export function retryTopic(group: string): string {
  return MixAll.RETRY_GROUP_TOPIC_PREFIX + group;
}
export function dlqTopic(group: string): string {
  return MixAll.DLQ_GROUP_TOPIC_PREFIX + group;
}

const GROUP_RE = /^[%|a-zA-Z0-9_-]+$/;
export function validateGroupName(group: string | undefined): string | undefined {
  if (!group) return 'the consumer group is blank';
  if (group.length > 255) return `the group name ${group.slice(0, 40)}... is longer than 255 characters`;
  if (!GROUP_RE.test(group)) return `the group name [${group}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`;
  return undefined;
}
