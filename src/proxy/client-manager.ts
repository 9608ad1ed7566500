// gRPC clients known to the proxy: their settings, their Telemetry stream (the only way to
// reach a 5.x producer for transaction recovery), and when they were last heard from.
import type * as grpc from '@grpc/grpc-js';

export const ClientType = { PRODUCER: 1, PUSH_CONSUMER: 2, SIMPLE_CONSUMER: 3, PULL_CONSUMER: 4 } as const;

export interface PbSettings {
  clientType?: number;
  accessPoint?: unknown;
  backoffPolicy?: unknown;
  requestTimeout?: unknown;
  publishing?: { topics?: { name?: string }[]; maxBodySize?: number; validateMessageType?: boolean };
  subscription?: {
    group?: { name?: string };
    subscriptions?: { topic?: { name?: string }; expression?: { type?: number; expression?: string } }[];
    fifo?: boolean;
    receiveBatchSize?: number;
    longPollingTimeout?: unknown;
  };
  userAgent?: { language?: number; version?: string; platform?: string; hostname?: string };
  pubSub?: string;
}

export interface GrpcClient {
  clientId: string;
  clientType: number;
  group?: string;
  topics: Set<string>;
  settings?: PbSettings;
  telemetry?: grpc.ServerDuplexStream<unknown, unknown>;
  lastSeen: number;
}

/** A client not heard from (call, heartbeat or open stream) for this long is gone. */
const CLIENT_EXPIRY_MS = 120_000;

export class ClientManager {
  private readonly clients = new Map<string, GrpcClient>();

  touch(clientId: string, now = Date.now()): GrpcClient {
    let c = this.clients.get(clientId);
    if (!c) {
      c = { clientId, clientType: 0, topics: new Set(), lastSeen: now };
      this.clients.set(clientId, c);
    }
    c.lastSeen = now;
    return c;
  }

  get(clientId: string): GrpcClient | undefined {
    return this.clients.get(clientId);
  }

  applySettings(clientId: string, s: PbSettings): GrpcClient {
    const c = this.touch(clientId);
    c.settings = s;
    if (s.clientType) c.clientType = s.clientType;
    if (s.publishing?.topics) for (const t of s.publishing.topics) if (t.name) c.topics.add(t.name);
    if (s.subscription?.group?.name) c.group = s.subscription.group.name;
    if (s.subscription?.subscriptions) for (const e of s.subscription.subscriptions) if (e.topic?.name) c.topics.add(e.topic.name);
    return c;
  }

  isAlive(clientId: string, now = Date.now()): boolean {
    const c = this.clients.get(clientId);
    if (!c) return false;
    return !!c.telemetry || now - c.lastSeen < CLIENT_EXPIRY_MS;
  }

  /**
   * Forgets a client (NotifyClientTermination). Its Telemetry stream is left for the client to
   * close: the nodejs client answers a server-ended stream by reopening it 1 s later, even when
   * it is shutting down, and then retries against the closed channel for ever.
   */
  remove(clientId: string): void {
    this.clients.delete(clientId);
  }

  /** Producers with an open Telemetry stream that publish to the topic (newest first). */
  producersOf(topic: string): GrpcClient[] {
    const out: GrpcClient[] = [];
    for (const c of this.clients.values()) {
      if (c.clientType === ClientType.PRODUCER && c.telemetry && c.topics.has(topic)) out.push(c);
    }
    return out.sort((a, b) => b.lastSeen - a.lastSeen);
  }

  expire(now = Date.now()): void {
    for (const [id, c] of this.clients) if (!c.telemetry && now - c.lastSeen > CLIENT_EXPIRY_MS) this.clients.delete(id);
  }

  get size(): number {
    return this.clients.size;
  }

  /** Every known client (metrics count the live ones). */
  values(): IterableIterator<GrpcClient> {
    return this.clients.values();
  }
}
