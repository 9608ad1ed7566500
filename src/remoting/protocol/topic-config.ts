// TopicConfig as RocketMQ has it: the broker's topic table entry, and its JSON form in
// REGISTER_BROKER, GET_TOPIC_CONFIG and GET_ALL_TOPIC_CONFIG bodies.
import { asObject, BodyFormatError, numberField } from './json-body.js';
import { PermName } from './route.js';

export type TopicFilterType = 'SINGLE_TAG' | 'MULTI_TAG';

export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: TopicFilterType;
  topicSysFlag: number;
  order: boolean;
  /** 5.x attributes, e.g. "+message.type" = NORMAL | FIFO | DELAY | TRANSACTION | MIXED. */
  attributes: Record<string, string>;
}

/** Java TopicConfig's defaults for fields a body leaves out. */
const DEFAULT_QUEUE_NUMS = 16;
const DEFAULT_PERM = PermName.PERM_READ | PermName.PERM_WRITE;

export function newTopicConfig(topicName: string, queueNums: number, perm: number = DEFAULT_PERM): TopicConfig {
  return {
    topicName,
    readQueueNums: queueNums,
    writeQueueNums: queueNums,
    perm,
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: false,
    attributes: {},
  };
}

/**
 * A TopicConfig from its JSON form, with Java's defaults for absent fields; fallbackName names it
 * when the JSON has no topicName (a table entry keyed by name). Throws BodyFormatError naming the
 * field that has the wrong type.
 */
export function topicConfigFromJson(v: unknown, fallbackName: string): TopicConfig {
  const o = asObject(v, `topic config ${fallbackName}`);
  const topicName = typeof o.topicName === 'string' && o.topicName !== '' ? o.topicName : fallbackName;
  if (topicName === '') throw new BodyFormatError('topic config without topicName');
  const w = `topic config ${topicName}`;
  const attributes: Record<string, string> = {};
  if (o.attributes !== undefined && o.attributes !== null) {
    for (const [k, val] of Object.entries(asObject(o.attributes, `${w} attributes`))) attributes[k] = String(val);
  }
  return {
    topicName,
    readQueueNums: numberField(o.readQueueNums, DEFAULT_QUEUE_NUMS, `${w} readQueueNums`),
    writeQueueNums: numberField(o.writeQueueNums, DEFAULT_QUEUE_NUMS, `${w} writeQueueNums`),
    perm: numberField(o.perm, DEFAULT_PERM, `${w} perm`),
    topicFilterType: o.topicFilterType === 'MULTI_TAG' ? 'MULTI_TAG' : 'SINGLE_TAG',
    topicSysFlag: numberField(o.topicSysFlag, 0, `${w} topicSysFlag`),
    order: o.order === true || o.order === 'true',
    attributes,
  };
}
