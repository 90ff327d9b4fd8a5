/** Items per claim at most (a claim's items and their inputs are held in memory until started). */
export const MAX_CLAIM = 500;
/** How much work a claim aims to hold, in ms at the run's recent pace. */
const CLAIM_WINDOW_MS = 100;

/**
 * How many items a worker claims at once. At least 2 × `concurrency` (the next claim is made
 * while the current one runs, so slots never wait for a claim); more when items go fast: about
 * {@link CLAIM_WINDOW_MS} of work at the pace items were stored over the last claims, up to
 * {@link MAX_CLAIM} (or 2 × `concurrency` if that is more). A fast run then pays for fewer claim
 * transactions, and its outcomes are committed in larger groups (each commit an fsync); a slow
 * one keeps small claims, so that at its end no worker sits on items another could have run.
 * The pace is read from a monotonic clock: a test's manual clock does not change claim sizes.
 */
export class ClaimSizer {
  private readonly least: number;
  private readonly most: number;
  private size: number;
  private lastAt: number | null = null;
  private lastFinished = 0;
  /** Items finished (stored) per ms, smoothed over the last claims. */
  private pace: number | null = null;

  constructor(concurrency: number) {
    this.least = concurrency * 2;
    this.most = Math.max(this.least, MAX_CLAIM);
    this.size = this.least;
  }

  /** The size of the claim about to be made, given how many items this execution has finished so far. */
  next(finished: number, now = performance.now()): number {
    if (this.lastAt !== null && now > this.lastAt) {
      const perMs = (finished - this.lastFinished) / (now - this.lastAt);
      // Up at once, down by halves: one slow interval (a commit, a pause) does not shrink it much.
      this.pace = this.pace === null ? perMs : Math.max(perMs, (this.pace + perMs) / 2);
      this.size = Math.max(this.least, Math.min(this.most, Math.ceil(this.pace * CLAIM_WINDOW_MS)));
    }
    // The pace is measured from the first claim after an item finished (before, slots were filling).
    if (finished > 0) {
      this.lastAt = now;
      this.lastFinished = finished;
    }
    return this.size;
  }
}
