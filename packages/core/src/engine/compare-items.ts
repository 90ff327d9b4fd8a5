import type { ResultKey, Storage } from '../ports.js';
import type { RunItemStatus } from '../types.js';

/** Result keys read per page while comparing (a page of each run in memory at a time). */
const PAGE = 1000;

/** One item of a run: its repetitions' keys, in repetition order. */
export interface RunItem {
  itemId: string;
  reps: ResultKey[];
}

/** The item's status: `succeeded` when every repetition succeeded, else the first other status. */
export const itemStatus = (item: RunItem): RunItemStatus =>
  item.reps.find((r) => r.status !== 'succeeded')?.status ?? 'succeeded';

/** The item's mean score of a scorer over its repetitions; null when no repetition has one. */
export function itemMean(item: RunItem, scorerId: string): number | null {
  let sum = 0;
  let n = 0;
  for (const r of item.reps) {
    for (const s of r.scores) {
      if (s.scorerId === scorerId && s.score !== null) {
        sum += s.score;
        n++;
      }
    }
  }
  return n ? sum / n : null;
}

/** A run's items in item id order, each with all its repetitions, read page by page (keyset paging). */
export async function* runItems(storage: Storage, runId: string): AsyncGenerator<RunItem> {
  let after: { itemId: string; repetition: number } | null = null;
  let current: RunItem | null = null;
  for (;;) {
    const page = await storage.listResultKeys(runId, after, PAGE);
    for (const key of page) {
      if (current && current.itemId === key.itemId) current.reps.push(key);
      else {
        if (current) yield current;
        current = { itemId: key.itemId, reps: [key] };
      }
    }
    if (page.length < PAGE) break;
    const last = page[page.length - 1]!;
    after = { itemId: last.itemId, repetition: last.repetition };
  }
  if (current) yield current;
}

/**
 * Both runs' items side by side, merge-joined by item id: `[a, b]` for an item both runs have,
 * `[a, null]` or `[null, b]` for an item of one run only (runs of two dataset versions).
 */
export async function* pairItems(
  storage: Storage,
  runIdA: string,
  runIdB: string,
): AsyncGenerator<[RunItem, RunItem] | [RunItem, null] | [null, RunItem]> {
  const itA = runItems(storage, runIdA);
  const itB = runItems(storage, runIdB);
  let a = (await itA.next()).value as RunItem | undefined;
  let b = (await itB.next()).value as RunItem | undefined;
  while (a || b) {
    if (a && (!b || a.itemId < b.itemId)) {
      yield [a, null];
      a = (await itA.next()).value as RunItem | undefined;
    } else if (b && (!a || b.itemId < a.itemId)) {
      yield [null, b];
      b = (await itB.next()).value as RunItem | undefined;
    } else {
      yield [a!, b!];
      a = (await itA.next()).value as RunItem | undefined;
      b = (await itB.next()).value as RunItem | undefined;
    }
  }
}

/** A growing array of doubles: 8 bytes a value, whatever the run's size. */
export class Floats {
  private buf = new Float64Array(1024);
  length = 0;
  push(x: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = x;
  }
  view(): Float64Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Keeps the `n` entries with the smallest `rank`, in order (ties in arrival order); memory stays O(n). */
export class TopN<T> {
  readonly rows: { rank: number; value: T }[] = [];
  constructor(private readonly n: number) {}
  add(rank: number, value: T): void {
    if (this.n === 0) return;
    if (this.rows.length === this.n && rank >= this.rows[this.rows.length - 1]!.rank) return;
    let i = this.rows.length;
    while (i > 0 && this.rows[i - 1]!.rank > rank) i--;
    this.rows.splice(i, 0, { rank, value });
    if (this.rows.length > this.n) this.rows.pop();
  }
}
