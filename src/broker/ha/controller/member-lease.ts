// One member's etcd lease, kept alive by hand so that we know, on our own clock, the earliest
// moment etcd could let it expire. etcd renews a lease when it receives the keep-alive, which is
// after we sent it, so "send time + granted TTL" is a time before which no other member can see
// the lease gone. The master stops acting as master a margin before that (see
// EtcdBrokerController.canActAsMaster), which is what keeps a partitioned master from accepting
// writes while a new one is being elected.
import { performance } from 'node:perf_hooks';
import type { Etcd3 } from 'etcd3';

export type KeepAliveOutcome = 'alive' | 'expired' | 'failed';

/** Monotonic milliseconds: wall-clock steps must not stretch or shrink a lease. */
export const monotonicMs = (): number => performance.now();

export class MemberLease {
  /** Until this monotonic time the lease cannot have expired in etcd. */
  private validUntil: number;
  private lastError: unknown;

  private constructor(
    private readonly client: Etcd3,
    readonly id: string,
    readonly ttlSec: number,
    sentAt: number,
  ) {
    this.validUntil = sentAt + ttlSec * 1000;
  }

  /** Grants a lease of ttlSec (etcd may raise it to its minimum; the granted TTL is used). */
  static async grant(client: Etcd3, ttlSec: number, timeoutMs: number): Promise<MemberLease> {
    const sentAt = monotonicMs();
    const res = await client.leaseClient.leaseGrant({ TTL: ttlSec }, { deadline: Date.now() + timeoutMs });
    return new MemberLease(client, res.ID, Number(res.TTL) > 0 ? Number(res.TTL) : ttlSec, sentAt);
  }

  /** Time left before etcd could expire the lease, by our clock (≤ 0: it may be gone). */
  remainingMs(now = monotonicMs()): number {
    return this.validUntil - now;
  }

  get lastFailure(): unknown {
    return this.lastError;
  }

  /** One keep-alive round trip on a short-lived stream; never throws. */
  async keepAlive(timeoutMs: number): Promise<KeepAliveOutcome> {
    const sentAt = monotonicMs();
    try {
      const ttl = await this.keepAliveTtl(timeoutMs);
      // etcd answers TTL 0 for a lease it no longer has (expired or revoked).
      if (ttl <= 0) return 'expired';
      this.validUntil = Math.max(this.validUntil, sentAt + ttl * 1000);
      return 'alive';
    } catch (err) {
      this.lastError = err;
      return 'failed';
    }
  }

  /** Revokes the lease (its keys go at once); errors are the caller's to log. */
  async revoke(timeoutMs: number): Promise<void> {
    this.validUntil = 0;
    await this.client.leaseClient.leaseRevoke({ ID: this.id }, { deadline: Date.now() + timeoutMs });
  }

  /** Stops counting on the lease without telling etcd (it lapses after its TTL). */
  forget(): void {
    this.validUntil = 0;
  }

  private async keepAliveTtl(timeoutMs: number): Promise<number> {
    const stream = await this.client.leaseClient.leaseKeepAlive({ deadline: Date.now() + timeoutMs });
    try {
      return await new Promise<number>((resolve, reject) => {
        stream.on('data', (res) => resolve(Number(res.TTL)));
        stream.on('error', reject);
        stream.on('end', () => reject(new Error('keep-alive stream ended without an answer')));
        stream.write({ ID: this.id });
      });
    } finally {
      stream.end();
    }
  }
}
