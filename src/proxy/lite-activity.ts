// gRPC side of lite topics (issue 18): SendMessage of LITE messages, SyncLiteSubscription,
// ReceiveMessage / Ack / ChangeInvisibleDuration / ForwardToDLQ with lite receipt handles,
// lite settings for lite consumers and NotifyUnsubscribeLiteCommand over Telemetry. The broker's
// LiteService does the work; it exists only behind the in-process backend, so it is loaded on
// first use (the cluster proxy, `apogee proxy`, must not load src/broker at all) and lite calls
// there answer NOT_IMPLEMENTED.
import type { LiteDelivery, LiteError, LiteHost, LiteOffsetOption, LiteReceiveRequest, LiteService } from '../broker/lite/index.js';
import { hostPortOf } from '../common/message-host.js';
import { BackendSendStatus } from './backend/proxy-backend.js';
import { Code, codeFromRemoting, OK_STATUS, ProxyError } from './grpc-code.js';
import { encodeDelivery } from './delivery-encoder.js';
import { convertForDelivery, type ConvertedSend, type PbMessage } from './message-converter.js';
import type { ProxyContext } from './proxy-context.js';

export const LITE_MESSAGE_TYPE = 5;
export const LiteClientType = { LITE_PUSH_CONSUMER: 5, LITE_SIMPLE_CONSUMER: 6 } as const;
/** Must match LITE_HANDLE_PREFIX of src/broker/lite (not imported: see the header). */
const LITE_HANDLE_PREFIX = 'l1 ';

type LiteModule = typeof import('../broker/lite/index.js');
const services = new WeakMap<ProxyContext, Promise<{ svc: LiteService; mod: LiteModule; host: LiteHost }>>();
/** The started services, so that a send finds its own without awaiting a promise. */
const started = new WeakMap<ProxyContext, LiteService>();

function hostOf(ctx: ProxyContext): LiteHost | undefined {
  // The in-process backend holds its broker; the remote one does not.
  const b = (ctx.backend as { broker?: LiteHost }).broker;
  return b && typeof b === 'object' && 'store' in b ? b : undefined;
}

async function lite(ctx: ProxyContext): Promise<{ svc: LiteService; mod: LiteModule; host: LiteHost }> {
  let p = services.get(ctx);
  if (!p) {
    const host = hostOf(ctx);
    if (!host) throw new ProxyError(Code.NOT_IMPLEMENTED, 'lite topics are served only by a broker\'s own gRPC endpoint, not by the cluster proxy');
    p = (async () => {
      const mod = await import('../broker/lite/index.js');
      const svc = await mod.liteServiceOf(host);
      svc.clientAlive = (id) => ctx.clients.isAlive(id);
      svc.onUnsubscribe((clientId, _group, _parent, liteTopic) => notifyUnsubscribe(ctx, clientId, liteTopic));
      started.set(ctx, svc);
      return { svc, mod, host };
    })();
    services.set(ctx, p);
    p.catch(() => services.delete(ctx));
  }
  return p;
}

/**
 * Starts the broker's lite service in the background when it holds LITE parents, so the first
 * lite request after a restart does not wait for the whole state to load (seconds at a million
 * lite topics). A cluster proxy has no broker: nothing to do.
 */
export function warmLite(ctx: ProxyContext): void {
  const host = hostOf(ctx);
  if (!host) return;
  for (const tc of host.topicConfigManager.topics) {
    const type = tc.attributes?.['+message.type'] ?? tc.attributes?.['message.type'];
    if (type?.toUpperCase() !== 'LITE') continue;
    lite(ctx).catch((err: unknown) => ctx.logger.warn({ err }, 'lite state: loading at start failed; the first lite request tries again'));
    return;
  }
}

/** Saves the lite state when the endpoint closes (the broker's lite service lives as long as its gRPC endpoint). */
export async function closeLite(ctx: ProxyContext): Promise<void> {
  const p = services.get(ctx);
  if (!p) return;
  services.delete(ctx);
  started.delete(ctx);
  const { mod, host } = await p;
  await mod.closeLiteService(host);
}

/** NotifyClientTermination: forget the client's lite subscriptions (only if lite topics were used). */
export function liteClientGone(ctx: ProxyContext, clientId: string): void {
  void services
    .get(ctx)
    ?.then(({ svc }) => svc.dropClient(clientId))
    .catch(() => undefined);
}

const LITE_CODES: Record<string, number> = {
  ILLEGAL_LITE_TOPIC: 40020,
  LITE_TOPIC_QUOTA_EXCEEDED: 42901,
  LITE_SUBSCRIPTION_QUOTA_EXCEEDED: 42902,
  NOT_LITE_TOPIC: Code.ILLEGAL_TOPIC,
  BAD_REQUEST: Code.BAD_REQUEST,
};

/** Runs fn, answering a LiteError with its code (ILLEGAL_LITE_TOPIC, the quota codes) and remark. */
async function guarded<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw proxyErrorOf(err);
  }
}

/** A LiteError as the ProxyError with its code and remark; anything else as it is. */
function proxyErrorOf(err: unknown): unknown {
  return err instanceof Error && err.name === 'LiteError' ? new ProxyError(LITE_CODES[(err as LiteError).kind] ?? Code.BAD_REQUEST, err.message) : err;
}

export function isLiteHandle(handle: string | undefined): boolean {
  return !!handle && handle.startsWith(LITE_HANDLE_PREFIX);
}

// ---- send ----

/** Stores a LITE message in its parent, in the queue its lite topic hashes to. */
export async function sendLite(
  ctx: ProxyContext,
  m: PbMessage,
  c: ConvertedSend,
  peer: string,
): Promise<{ status: { code: number; message: string }; messageId: string; transactionId: string; offset: number; recallHandle: string }> {
  // Once the service runs, a send awaits nothing but its store (the normal send's one await).
  const svc = started.get(ctx) ?? (await lite(ctx)).svc;
  const name = (m.systemProperties as { liteTopic?: string } | undefined)?.liteTopic ?? '';
  let slot: number;
  try {
    slot = svc.checkSend(c.topic, name);
  } catch (err) {
    throw proxyErrorOf(err);
  }
  const r = await ctx.backend.sendMessage({
    topic: c.topic,
    body: c.body,
    properties: svc.storedProperties(c.properties, name),
    sysFlag: c.sysFlag,
    bornTimestamp: c.bornTimestamp,
    bornHost: hostPortOf(peer),
    // The queue is hash(lite topic): each lite topic lives in one queue, in order.
    messageGroup: name,
  });
  svc.stored(c.topic, name, r.queueId, r.queueOffset, Date.now(), r.commitLogOffset, slot);
  const st = r.status === BackendSendStatus.FLUSH_DISK_TIMEOUT ? { code: codeFromRemoting(10), message: 'flush to disk timed out' } : OK_STATUS;
  return { status: st, messageId: c.messageId, transactionId: '', offset: r.queueOffset, recallHandle: '' };
}

// ---- subscriptions ----

interface PbOffsetOption {
  policy?: number;
  offset?: number;
  tailN?: number;
  timestamp?: number;
  offsetType?: string;
}

function offsetOptionOf(o: PbOffsetOption | undefined | null): LiteOffsetOption | undefined {
  if (!o) return undefined;
  switch (o.offsetType) {
    case 'offset':
      return { offset: Number(o.offset ?? 0) };
    case 'tailN':
      return { tailN: Number(o.tailN ?? 0) };
    case 'timestamp':
      return { timestamp: Number(o.timestamp ?? 0) };
    case 'policy': {
      const p = Number(o.policy ?? 0);
      if (p !== 0 && p !== 1 && p !== 2) throw new ProxyError(Code.ILLEGAL_OFFSET, `unknown offset policy ${p}`);
      return { policy: p };
    }
    default:
      return undefined;
  }
}

export async function syncLiteSubscription(
  ctx: ProxyContext,
  req: { action?: number; topic?: { name?: string }; group?: { name?: string }; liteTopicSet?: string[]; offsetOption?: PbOffsetOption },
  clientId: string,
): Promise<unknown> {
  if (!clientId) throw new ProxyError(Code.CLIENT_ID_REQUIRED, 'x-mq-client-id metadata is required');
  const parent = req.topic?.name;
  if (!parent) throw new ProxyError(Code.ILLEGAL_TOPIC, 'the bind topic is empty');
  const group = req.group?.name;
  if (!group) throw new ProxyError(Code.ILLEGAL_CONSUMER_GROUP, 'consumer group is empty');
  if (!(await ctx.backend.getGroupConfig(group))) throw new ProxyError(Code.CONSUMER_GROUP_NOT_FOUND, `consumer group ${group} not found`);
  const { svc } = await lite(ctx);
  ctx.clients.touch(clientId);
  const option = offsetOptionOf(req.offsetOption);
  await guarded(async () => {
    svc.sync(clientId, group, parent, req.action ?? 0, req.liteTopicSet ?? [], option);
    await svc.settle();
  });
  return { status: OK_STATUS };
}

/** Settings fields of a lite push consumer: the group's quota and the longest lite topic name. */
export async function liteSettings(ctx: ProxyContext, parent: string | undefined): Promise<Record<string, number>> {
  try {
    const { svc, mod } = await lite(ctx);
    const quota = parent ? svc.limitsOf(parent).liteSubscriptionQuota : 0;
    return { ...(quota > 0 ? { liteSubscriptionQuota: Math.min(quota, 2 ** 31 - 1) } : {}), maxLiteTopicSize: mod.MAX_LITE_TOPIC_LENGTH };
  } catch {
    return {};
  }
}

function notifyUnsubscribe(ctx: ProxyContext, clientId: string, liteTopic: string): void {
  const stream = ctx.clients.get(clientId)?.telemetry;
  if (!stream) return;
  try {
    stream.write({ status: OK_STATUS, notifyUnsubscribeLiteCommand: { liteTopic } });
  } catch (err) {
    ctx.logger.debug({ err, clientId }, 'notify unsubscribe lite: telemetry stream closed');
  }
}

// ---- receive, ack ----

/** A lite receive is the lite service's request as it is. */
export type LiteReceive = LiteReceiveRequest;

/**
 * The ReceiveMessage answers for a lite parent, each the encoded `{message}` of the delivery
 * encoder that normal receives use (or its generic fallback); [] when nothing arrived in time.
 */
export async function receiveLite(ctx: ProxyContext, req: LiteReceive, signal: AbortSignal): Promise<unknown[]> {
  const { svc } = await lite(ctx);
  const got = await guarded(() => svc.receive(req, signal));
  const now = Date.now();
  return got.map((d) => liteMessage(svc, d, now));
}

function liteMessage(svc: LiteService, d: LiteDelivery, now: number): unknown {
  const record = { ...d.record, properties: svc.deliveredProperties(d.record.properties) };
  const extra = {
    topic: d.record.topic,
    receiptHandle: d.receiptHandle,
    deliveryAttempt: d.deliveryAttempt,
    // At least 1 ms, so the invisible duration is present even for a deadline already due.
    invisibleUntil: Math.max(d.invisibleUntil, now + 1),
    queueId: d.queueId,
    queueOffset: d.queueOffset,
    liteTopic: d.liteTopic,
  };
  return encodeDelivery(record, extra, now) ?? { message: convertForDelivery(record, extra, now) };
}

export async function liteAck(ctx: ProxyContext, group: string, parent: string, handle: string): Promise<'OK' | 'INVALID' | 'EXPIRED'> {
  const { svc } = await lite(ctx);
  return svc.ack(group, parent, handle);
}

export async function liteChangeInvisible(ctx: ProxyContext, group: string, parent: string, handle: string, ms: number) {
  const { svc } = await lite(ctx);
  return svc.changeInvisible(group, parent, handle, ms);
}

export async function liteForwardToDeadLetter(ctx: ProxyContext, group: string, parent: string, handle: string): Promise<'OK' | 'INVALID' | 'EXPIRED'> {
  const { svc } = await lite(ctx);
  return svc.forwardToDeadLetter(group, parent, handle);
}
