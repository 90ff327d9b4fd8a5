import { describe, expect, it } from 'vitest';
import { ClaimSizer, MAX_CLAIM } from '../src/engine/claim-size.js';

describe('ClaimSizer', () => {
  it('claims 2 × concurrency until items have finished at a measured pace', () => {
    const s = new ClaimSizer(50);
    expect(s.next(0, 0)).toBe(100);
    expect(s.next(0, 5)).toBe(100); // slots filling: nothing finished yet
    expect(s.next(0, 20)).toBe(100);
    expect(s.next(40, 30)).toBe(100); // the first finished items: the pace is measured from here
  });

  it('grows to about 100 ms of work for a fast run, capped at MAX_CLAIM', () => {
    const s = new ClaimSizer(50);
    s.next(10, 0);
    // 300 items in 10 ms: 30 per ms → 3,000 per 100 ms, capped
    expect(s.next(310, 10)).toBe(MAX_CLAIM);
    const t = new ClaimSizer(50);
    t.next(10, 0);
    // 3 per ms → 300 items per 100 ms
    expect(t.next(310, 100)).toBe(300);
  });

  it('keeps 2 × concurrency for a slow run', () => {
    const s = new ClaimSizer(10);
    s.next(1, 0);
    // LLM-like: 10 items per second
    expect(s.next(11, 1_000)).toBe(20);
    expect(s.next(21, 2_000)).toBe(20);
  });

  it('goes up at once and down by halves', () => {
    const s = new ClaimSizer(10);
    s.next(1, 0);
    expect(s.next(401, 100)).toBe(400); // 4 per ms
    expect(s.next(401, 200)).toBe(200); // nothing finished: pace halves
    expect(s.next(401, 300)).toBe(100);
    expect(s.next(1_001, 400)).toBe(MAX_CLAIM); // 6 per ms
  });

  it('never claims fewer than 2 × concurrency, even above MAX_CLAIM', () => {
    const s = new ClaimSizer(400);
    s.next(1, 0);
    expect(s.next(100_001, 10)).toBe(800);
    expect(s.next(100_002, 10_000)).toBe(800);
  });

  it('ignores a clock that did not move', () => {
    const s = new ClaimSizer(5);
    s.next(1, 7);
    expect(s.next(500, 7)).toBe(10);
  });
});
