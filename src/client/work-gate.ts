// Bookkeeping both consume services share: whether they still take work, how many requests are
// running, deferred retries, and waiting for running requests at shutdown (so their offsets count).
export class WorkGate {
  stopped = false;
  running = 0;
  private readonly later = new Set<NodeJS.Timeout>();
  private idle: (() => void) | undefined;

  /** Runs fn after ms unless the gate stopped meanwhile. */
  schedule(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.later.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.later.add(t);
  }

  begin(): void {
    this.running++;
  }

  end(): void {
    this.running--;
    if (this.running === 0 && this.idle) this.idle();
  }

  /** Stops taking work, drops deferred retries, waits up to awaitMs for running requests. */
  async shutdown(awaitMs: number): Promise<void> {
    this.stopped = true;
    for (const t of this.later) clearTimeout(t);
    this.later.clear();
    if (this.running === 0) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, awaitMs);
      this.idle = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
