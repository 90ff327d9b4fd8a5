import { distance as myers } from 'fastest-levenshtein';

/**
 * Levenshtein distance over UTF-16 code units (as fastest-levenshtein counts), bounded in time.
 *
 * 1. The common prefix and suffix are dropped (they never change the distance).
 * 2. What is left goes to fastest-levenshtein (Myers' bit-parallel algorithm: ⌈longer / 32⌉ ×
 *    shorter word operations) when that is at most `MYERS_WORDS`: every pair up to ~23,000
 *    characters each, so normal-sized texts get the distance they always had.
 * 3. Longer pairs use diagonal transitions (Ukkonen): about (n + d²) steps for a distance d on
 *    typical texts, n × d at worst, stopped after `DIAGONAL_STEPS`. Long texts with few edits —
 *    the case where a similarity is meaningful — stay exact; very different long texts get
 *    `{ atLeast }`, a lower bound on the distance.
 */

/** Word operations allowed to fastest-levenshtein (10–17 ns each on a busy 2-core VM). */
export const MYERS_WORDS = 2 ** 24;
/** Diagonal steps allowed: diagonals visited (~12 ns each) plus characters compared (fewer ns). */
export const DIAGONAL_STEPS = 2 ** 24;

export type BoundedDistance = { distance: number } | { atLeast: number };

export function boundedDistance(a: string, b: string): BoundedDistance {
  let start = 0;
  const shorter = Math.min(a.length, b.length);
  while (start < shorter && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  let end = 0;
  while (end < shorter - start && a.charCodeAt(a.length - 1 - end) === b.charCodeAt(b.length - 1 - end)) end++;
  const x = a.slice(start, a.length - end);
  const y = b.slice(start, b.length - end);
  if (x.length === 0 || y.length === 0) return { distance: x.length + y.length };
  const [short, long] = x.length <= y.length ? [x, y] : [y, x];
  if (Math.ceil(long.length / 32) * short.length <= MYERS_WORDS) return { distance: myers(long, short) };
  return diagonalDistance(short, long, DIAGONAL_STEPS);
}

/**
 * Ukkonen's diagonal transitions. `fr[k]` is the furthest row i reached on diagonal k = j − i with
 * e edits; each round e extends every diagonal in −e…e by one edit, then slides along equal
 * characters. Done when diagonal m − n reaches row n. Gives up after `steps`.
 */
export function diagonalDistance(a: string, b: string, steps: number): BoundedDistance {
  const n = a.length;
  const m = b.length;
  const target = m - n;
  const lowest = Math.abs(target); // no fewer edits than the length difference
  // Round e visits up to 2e + 1 diagonals, so e stays below √steps (or the longer length).
  const maxE = Math.min(Math.max(n, m), Math.ceil(Math.sqrt(steps)) + 1);
  if (lowest > maxE) return { atLeast: lowest };
  const offset = maxE + 1;
  const UNREACHED = -(n + m + 2);
  let prev = new Int32Array(2 * maxE + 3).fill(UNREACHED);
  let cur = new Int32Array(2 * maxE + 3).fill(UNREACHED);
  let row = 0;
  while (row < n && row < m && a.charCodeAt(row) === b.charCodeAt(row)) row++; // round 0: diagonal 0
  if (target === 0 && row === n) return { distance: 0 };
  prev[offset] = row;
  let spent = row;
  for (let e = 1; e <= maxE; e++) {
    const lo = Math.max(-e, -n);
    const hi = Math.min(e, m);
    for (let k = lo; k <= hi; k++) {
      // substitution (same diagonal, next row), deletion (from k + 1, next row), insertion (from k − 1, same row)
      row = prev[offset + k] + 1;
      const del = prev[offset + k + 1] + 1;
      const ins = prev[offset + k - 1];
      if (del > row) row = del;
      if (ins > row) row = ins;
      // at the end of a diagonal, stay there: neighbouring DP cells differ by at most 1
      const last = Math.min(n, m - k);
      if (row > last) row = last;
      const from = row;
      const stop = Math.min(last, row + steps - spent); // never past the budget, even within a round
      while (row < stop && a.charCodeAt(row) === b.charCodeAt(row + k)) row++;
      cur[offset + k] = row;
      spent += row - from + 1;
      if (spent > steps) return { atLeast: Math.max(e, lowest) }; // round e − 1 did not finish
    }
    if (e >= lowest && cur[offset + target] === n) return { distance: e };
    [prev, cur] = [cur, prev];
  }
  return { atLeast: Math.max(maxE + 1, lowest) };
}
