import type { Clock, ItemOutcome, Storage } from '../ports.js';

interface Pending {
  outcome: ItemOutcome;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface WriterOptions {
  /** Outcomes per transaction at most. Default 500. */
  maxBatch?: number;
  /** How long an outcome may wait for companions before a flush, in ms. Default 10. */
  flushMs?: number;
  /** Tries of a failed write before giving up (the run job then retries). Default 8. */
  maxWriteAttempts?: number;
}

/**
 * Group commit: outcomes finishing close together are stored in one transaction. `add` resolves
 * once its outcome is durable. A failed write is retried with backoff, never dropped (outcomes are
 * idempotent upserts); after `maxWriteAttempts` every waiting outcome is rejected.
 */
export class OutcomeWriter {
  private buffer: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failure: unknown = null;
  private readonly maxBatch: number;
  private readonly flushMs: number;
  private readonly maxWriteAttempts: number;

  constructor(
    private readonly storage: Storage,
    private readonly runId: string,
    private readonly clock: Clock,
    private readonly onFlushed: (counts: { succeeded: number; failed: number }) => void,
    opts: WriterOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 500;
    this.flushMs = opts.flushMs ?? 10;
    this.maxWriteAttempts = opts.maxWriteAttempts ?? 8;
  }

  add(outcome: ItemOutcome): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.buffer.push({ outcome, resolve, reject });
      if (this.buffer.length >= this.maxBatch) this.kick();
      else if (!this.timer) this.timer = setTimeout(() => this.kick(), this.flushMs);
    });
  }

  /** Writes everything buffered; resolves when it is durable. */
  async flush(): Promise<void> {
    while (this.buffer.length || this.flushing) {
      this.kick();
      await this.flushing?.catch(() => {});
    }
    if (this.failure) throw this.failure;
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.flushing) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
      if (this.buffer.length) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.buffer.length) {
      const batch = this.buffer.splice(0, this.maxBatch);
      try {
        const counts = await this.writeWithRetry(batch.map((p) => p.outcome));
        for (const p of batch) p.resolve();
        this.onFlushed(counts);
      } catch (e) {
        this.failure = e;
        for (const p of [...batch, ...this.buffer.splice(0)]) p.reject(e);
      }
    }
  }

  private async writeWithRetry(outcomes: ItemOutcome[]) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.storage.writeOutcomes(this.runId, outcomes);
      } catch (e) {
        if (attempt >= this.maxWriteAttempts) throw e;
        await this.clock.sleep(Math.min(2_000, 25 * 2 ** attempt) * (0.5 + this.clock.random() / 2));
      }
    }
  }
}
