// Decoding of REGISTER_BROKER bodies: the plain JSON RegisterBrokerBody, or the compressed
// form (zlib stream of length-prefixed parts) that brokers send when compressRegister is on.
import { inflateSync } from 'node:zlib';
import type { DataVersion, RegisterBrokerBody, TopicConfig } from './route-data.js';

/** Raised for a body that cannot be decoded; the message says what is wrong. */
export class BodyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BodyFormatError';
  }
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BodyFormatError(`${what} is not an object`);
  return v as Record<string, unknown>;
}

function num(v: unknown, fallback: number, what: string): number {
  if (v === undefined || v === null) return fallback;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new BodyFormatError(`${what} is not a number`);
  return n;
}

export function toDataVersion(v: unknown): DataVersion {
  if (v === undefined || v === null) return { timestamp: 0, counter: 0, stateVersion: 0 };
  const o = asObject(v, 'dataVersion');
  return {
    timestamp: num(o.timestamp, 0, 'dataVersion.timestamp'),
    counter: num(o.counter, 0, 'dataVersion.counter'),
    stateVersion: num(o.stateVersion, 0, 'dataVersion.stateVersion'),
  };
}

function toTopicConfig(v: unknown, fallbackName: string): TopicConfig {
  const o = asObject(v, `topic config ${fallbackName}`);
  const topicName = typeof o.topicName === 'string' && o.topicName !== '' ? o.topicName : fallbackName;
  if (topicName === '') throw new BodyFormatError('topic config without topicName');
  const w = `topic config ${topicName}`;
  const attrs = o.attributes === undefined || o.attributes === null ? undefined : asObject(o.attributes, `${w} attributes`);
  return {
    topicName,
    readQueueNums: num(o.readQueueNums, 16, `${w} readQueueNums`),
    writeQueueNums: num(o.writeQueueNums, 16, `${w} writeQueueNums`),
    perm: num(o.perm, 6, `${w} perm`),
    topicSysFlag: num(o.topicSysFlag, 0, `${w} topicSysFlag`),
    order: o.order === true || o.order === 'true',
    topicFilterType: typeof o.topicFilterType === 'string' ? o.topicFilterType : 'SINGLE_TAG',
    attributes: attrs as Record<string, string> | undefined,
  };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BodyFormatError(`${what} is not valid JSON (${(err as Error).message})`);
  }
}

/** Plain form: `{topicConfigSerializeWrapper:{topicConfigTable, dataVersion}, filterServerList}`. */
export function decodePlainBody(body: Buffer): RegisterBrokerBody {
  const root = asObject(parseJson(body.toString('utf8'), 'body'), 'body');
  const wrapper = root.topicConfigSerializeWrapper === undefined ? {} : asObject(root.topicConfigSerializeWrapper, 'topicConfigSerializeWrapper');
  const table = wrapper.topicConfigTable === undefined || wrapper.topicConfigTable === null ? {} : asObject(wrapper.topicConfigTable, 'topicConfigTable');
  const topicConfigTable = new Map<string, TopicConfig>();
  for (const [name, tc] of Object.entries(table)) {
    const config = toTopicConfig(tc, name);
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
  if (text.startsWith('{')) return toTopicConfig(parseJson(text, 'topic config'), '');
  const parts = text.split(' ');
  if (parts.length < 5) throw new BodyFormatError(`topic config "${text.slice(0, 80)}" has fewer than 5 fields`);
  const [topicName, read, write, perm, filterType] = parts;
  const attrText = parts.slice(5).join(' ');
  const attributes = attrText === '' ? undefined : asObject(parseJson(attrText, `topic ${topicName} attributes`), 'attributes');
  return toTopicConfig({ topicName, readQueueNums: read, writeQueueNums: write, perm, topicFilterType: filterType, attributes }, topicName);
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
  const dataVersion = toDataVersion(parseJson(r.text('dataVersion'), 'dataVersion'));
  const count = r.int('topic count');
  if (count < 0) throw new BodyFormatError(`compressed body: negative topic count ${count}`);
  const topicConfigTable = new Map<string, TopicConfig>();
  for (let i = 0; i < count; i++) {
    const tc = decodeTopicEntry(r.text(`topic config ${i}`));
    topicConfigTable.set(tc.topicName, tc);
  }
  const filters = parseJson(r.text('filterServerList'), 'filterServerList');
  if (!Array.isArray(filters)) throw new BodyFormatError('filterServerList is not a list');
  // The static-topic mapping section that follows is not supported, so it is not read.
  return { dataVersion, topicConfigTable, filterServerList: filters.map(String) };
}

export function decodeRegisterBrokerBody(body: Buffer, compressed: boolean): RegisterBrokerBody {
  if (body.length === 0) return { dataVersion: toDataVersion(undefined), topicConfigTable: new Map(), filterServerList: [] };
  return compressed ? decodeCompressedBody(body) : decodePlainBody(body);
}
