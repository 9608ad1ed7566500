// REGISTER_BROKER bodies: the plain JSON RegisterBrokerBody a broker sends, and the compressed
// form (zlib stream of length-prefixed parts) that Java brokers send when compressRegister is on.
import { deflateSync, inflateSync } from 'node:zlib';
import { toDataVersion, type DataVersionData } from './data-version.js';
import { asObject, BodyFormatError, parseJsonText } from './json-body.js';
import { topicConfigFromJson, type TopicConfig } from './topic-config.js';

/** What the broker sends: its topic table with the table's data version (TopicConfigSerializeWrapper). */
export interface TopicConfigSerializeWrapper {
  topicConfigTable: Record<string, TopicConfig>;
  dataVersion: DataVersionData;
}

/** What the name server reads out of either form. */
export interface RegisterBrokerBody {
  dataVersion: DataVersionData;
  topicConfigTable: Map<string, TopicConfig>;
  filterServerList: string[];
}

/** The plain form: `{topicConfigSerializeWrapper:{topicConfigTable, dataVersion}, filterServerList}`. */
export function encodeRegisterBrokerBody(wrapper: TopicConfigSerializeWrapper, filterServerList: readonly string[] = []): Buffer {
  return Buffer.from(JSON.stringify({ topicConfigSerializeWrapper: wrapper, filterServerList }), 'utf8');
}

/** Java's TopicConfig.encode(): the five space-separated fields, then the attributes as JSON when present. */
function encodeTopicEntry(tc: TopicConfig): string {
  const head = `${tc.topicName} ${tc.readQueueNums} ${tc.writeQueueNums} ${tc.perm} ${tc.topicFilterType}`;
  return tc.attributes && Object.keys(tc.attributes).length > 0 ? `${head} ${JSON.stringify(tc.attributes)}` : head;
}

/**
 * The compressed form (Java RegisterBrokerBody.encode(true)): a zlib stream of length-prefixed
 * parts: data version JSON, topic count, each topic's compact text, the filter server list JSON,
 * and an empty static-topic mapping section. The compact text carries no topicSysFlag or order,
 * as in Java; order reaches the name servers through their KV config instead.
 */
export function encodeCompressedRegisterBrokerBody(wrapper: TopicConfigSerializeWrapper, filterServerList: readonly string[] = []): Buffer {
  const parts: Buffer[] = [];
  const text = (s: string): void => {
    const b = Buffer.from(s, 'utf8');
    parts.push(int32(b.length), b);
  };
  text(JSON.stringify(wrapper.dataVersion));
  const topics = Object.values(wrapper.topicConfigTable);
  parts.push(int32(topics.length));
  for (const tc of topics) text(encodeTopicEntry(tc));
  text(JSON.stringify(filterServerList));
  parts.push(int32(0));
  return deflateSync(Buffer.concat(parts));
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n, 0);
  return b;
}

export function decodePlainBody(body: Buffer): RegisterBrokerBody {
  const root = asObject(parseJsonText(body.toString('utf8'), 'body'), 'body');
  const wrapper = root.topicConfigSerializeWrapper === undefined ? {} : asObject(root.topicConfigSerializeWrapper, 'topicConfigSerializeWrapper');
  const table = wrapper.topicConfigTable === undefined || wrapper.topicConfigTable === null ? {} : asObject(wrapper.topicConfigTable, 'topicConfigTable');
  const topicConfigTable = new Map<string, TopicConfig>();
  for (const [name, tc] of Object.entries(table)) {
    const config = topicConfigFromJson(tc, name);
    topicConfigTable.set(config.topicName, config);
  }
  const list = root.filterServerList;
  if (list !== undefined && list !== null && !Array.isArray(list)) throw new BodyFormatError('filterServerList is not a list');
  return { dataVersion: toDataVersion(wrapper.dataVersion), topicConfigTable, filterServerList: (list ?? []).map(String) };
}

/**
 * One topic of the compressed form. Java writes TopicConfig.encode(): "name read write perm
 * filterType[ attributesJson]" separated by single spaces; a JSON object is accepted too.
 */
function decodeTopicEntry(text: string): TopicConfig {
  if (text.startsWith('{')) return topicConfigFromJson(parseJsonText(text, 'topic config'), '');
  const parts = text.split(' ');
  if (parts.length < 5) throw new BodyFormatError(`topic config "${text.slice(0, 80)}" has fewer than 5 fields`);
  const [topicName, read, write, perm, filterType] = parts;
  const attrText = parts.slice(5).join(' ');
  const attributes = attrText === '' ? undefined : asObject(parseJsonText(attrText, `topic ${topicName} attributes`), 'attributes');
  return topicConfigFromJson({ topicName, readQueueNums: read, writeQueueNums: write, perm, topicFilterType: filterType, attributes }, topicName);
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  int(what: string): number {
    if (this.pos + 4 > this.buf.length) throw new BodyFormatError(`compressed body ends before ${what}`);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  text(what: string): string {
    const len = this.int(`${what} length`);
    if (len < 0 || this.pos + len > this.buf.length) throw new BodyFormatError(`compressed body: bad ${what} length ${len}`);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
}

export function decodeCompressedBody(body: Buffer): RegisterBrokerBody {
  let raw: Buffer;
  try {
    raw = inflateSync(body);
  } catch (err) {
    throw new BodyFormatError(`compressed body does not inflate (${(err as Error).message})`);
  }
  const r = new Reader(raw);
  const dataVersion = toDataVersion(parseJsonText(r.text('dataVersion'), 'dataVersion'));
  const count = r.int('topic count');
  if (count < 0) throw new BodyFormatError(`compressed body: negative topic count ${count}`);
  const topicConfigTable = new Map<string, TopicConfig>();
  for (let i = 0; i < count; i++) {
    const tc = decodeTopicEntry(r.text(`topic config ${i}`));
    topicConfigTable.set(tc.topicName, tc);
  }
  const filters = parseJsonText(r.text('filterServerList'), 'filterServerList');
  if (!Array.isArray(filters)) throw new BodyFormatError('filterServerList is not a list');
  // The static-topic mapping section that follows is not supported, so it is not read.
  return { dataVersion, topicConfigTable, filterServerList: filters.map(String) };
}

export function decodeRegisterBrokerBody(body: Buffer, compressed: boolean): RegisterBrokerBody {
  if (body.length === 0) return { dataVersion: toDataVersion(undefined), topicConfigTable: new Map(), filterServerList: [] };
  return compressed ? decodeCompressedBody(body) : decodePlainBody(body);
}
