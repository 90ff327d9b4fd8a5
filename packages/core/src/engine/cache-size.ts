import type { Clock, Logger, TargetCache } from '../ports.js';
import { silentLogger } from '../ports.js';

export interface CacheSizeLimitOptions {
  /** The cache's largest size, in bytes of stored JSON (`ASSAY_CACHE_MAX_MB` × 2²⁰). */
  maxBytes: number;
  storage: Pick<TargetCache, 'cacheBytes' | 'evictOldest'>;
  /** The storage's clock (entries are timestamped by it). */
  clock: Clock;
  /** How often the size is checked, in ms. Default 30 000. */
  intervalMs?: number;
  /** Entries are deleted down to this share of `maxBytes`, so a full cache is not trimmed on every check. Default 0.9. */
  lowWater?: number;
  /** Entries deleted per transaction. Default 500. */
  batch?: number;
  /**
   * Entries older than this are taken as committed (a write's timestamp comes before its commit),
   * in ms. Default 60 000.
   */
  settleMs?: number;
  log?: Logger;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The cache's size limit (`ASSAY_CACHE_MAX_MB`): every `intervalMs`, away from any outcome's
 * write, the size is checked and, when over the limit, the oldest entries are deleted in small
 * transactions (`batch` entries each, yielding in between) until it is under `lowWater` of it.
 *
 * A check is cheap: the size of the entries older than a mark (`settleMs` in the past) is kept,
 * so a check sums only the entries written since (on the `(created_at, bytes)` index). That sum
 * errs only high (entries deleted by `assay cache clear` or another process's eviction), so the
 * whole cache is summed again before anything is deleted.
 */
export class CacheSizeLimit {
  private settled: { upTo: string; bytes: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private readonly log: Logger;

  constructor(private readonly opts: CacheSizeLimitOptions) {
    if (!(opts.maxBytes > 0)) throw new RangeError('maxBytes must be positive');
    this.log = opts.log ?? silentLogger;
  }

  /** Checks every `intervalMs` until {@link stop}. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.check()
        .catch((e) => this.log.warn({ err: e }, `cache size check failed: ${e instanceof Error ? e.message : e}`))
        .finally(() => {
          this.running = null;
        });
    }, this.opts.intervalMs ?? 30_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One check: the cache's size, and what was deleted to bring it under the limit. */
  async check(): Promise<{ bytes: number; evicted: { entries: number; bytes: number } }> {
    const { storage, maxBytes } = this.opts;
    const mark = iso(this.opts.clock.now() - (this.opts.settleMs ?? 60_000));
    const before = this.settled;
    if (!before) this.settled = { upTo: mark, bytes: await storage.cacheBytes({ upTo: mark }) };
    else if (mark > before.upTo)
      this.settled = {
        upTo: mark,
        bytes: before.bytes + (await storage.cacheBytes({ after: before.upTo, upTo: mark })),
      };
    const settled = this.settled!;
    const recent = await storage.cacheBytes({ after: settled.upTo });
    const evicted = { entries: 0, bytes: 0 };
    if (settled.bytes + recent <= maxBytes) return { bytes: settled.bytes + recent, evicted };
    settled.bytes = await storage.cacheBytes({ upTo: settled.upTo });
    let total = settled.bytes + recent;
    const goal = Math.floor(maxBytes * (this.opts.lowWater ?? 0.9));
    while (total > goal) {
      const r = await storage.evictOldest(total - goal, this.opts.batch ?? 500);
      if (r.entries === 0) break;
      evicted.entries += r.entries;
      evicted.bytes += r.bytes;
      total -= r.bytes;
      // Oldest first: from the settled part, unless it is all gone.
      settled.bytes = Math.max(0, settled.bytes - r.bytes);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (evicted.entries)
      this.log.info(
        { evictedEntries: evicted.entries, evictedBytes: evicted.bytes, cacheBytes: total, maxBytes },
        `cache over its limit: deleted its ${evicted.entries} oldest entries (${evicted.bytes} bytes)`,
      );
    return { bytes: total, evicted };
  }
}

/** `ASSAY_CACHE_MAX_MB` (a positive number of MiB) in bytes; undefined when unset. Throws when invalid. */
export function cacheMaxBytesFrom(raw: string | undefined): number | undefined {
  const v = raw?.trim();
  if (!v) return undefined;
  const mb = Number(v);
  if (!Number.isFinite(mb) || mb <= 0)
    throw new Error(`ASSAY_CACHE_MAX_MB must be a positive number of megabytes (e.g. 512), not '${raw}'`);
  return Math.round(mb * 1024 * 1024);
}
