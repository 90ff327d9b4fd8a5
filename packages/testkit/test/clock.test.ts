import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';

describe('ManualClock', () => {
  it('moves only when advanced, and wakes sleepers in time order at their own time', async () => {
    const clock = new ManualClock({ now: 1_000 });
    const woke: [string, number][] = [];
    const a = clock.sleep(300).then(() => woke.push(['a', clock.now()]));
    const b = clock.sleep(100).then(() => woke.push(['b', clock.now()]));
    const c = clock.sleep(500).then(() => woke.push(['c', clock.now()]));
    expect(clock.now()).toBe(1_000);
    expect(clock.pending).toBe(3);
    await clock.advance(300);
    await Promise.all([a, b]);
    expect(woke).toEqual([
      ['b', 1_100],
      ['a', 1_300],
    ]);
    expect(clock.now()).toBe(1_300);
    expect(clock.pending).toBe(1);
    await clock.advance(200);
    await c;
    expect(woke.at(-1)).toEqual(['c', 1_500]);
    expect(clock.pending).toBe(0);
  });

  it('wakes a sleeper that sleeps again within the window (a backoff loop)', async () => {
    const clock = new ManualClock({ now: 0 });
    const ticks: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        ticks.push(clock.now());
      }
    })();
    await clock.advance(1_000);
    await loop;
    expect(ticks).toEqual([100, 200, 300]);
    expect(clock.now()).toBe(1_000);
  });

  it('rejects a sleep whose signal aborts, and forgets it', async () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    const s = clock.sleep(1_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(s).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
    await expect(clock.sleep(1, ac.signal)).rejects.toThrow('stop');
  });

  it('returns the configured randomness', () => {
    expect(new ManualClock().random()).toBe(0.5);
    expect(new ManualClock({ random: 0.25 }).random()).toBe(0.25);
    let n = 0;
    const clock = new ManualClock({ random: () => (n++ % 4) / 4 });
    expect([clock.random(), clock.random(), clock.random()]).toEqual([0, 0.25, 0.5]);
  });
});
