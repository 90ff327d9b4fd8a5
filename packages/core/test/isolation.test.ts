import { describe, expect, it } from 'vitest';
import { IsolationGate } from '../src/engine/isolation.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('IsolationGate', () => {
  it('shared entries are immediate; an exclusive entry waits for them, runs alone, then lets the waiters in', async () => {
    const gate = new IsolationGate();
    const log: string[] = [];
    expect(gate.enterShared()).toBeUndefined();
    expect(gate.enterShared()).toBeUndefined();
    const ex = gate.enterExclusive().then(() => log.push('exclusive in'));
    const late = gate.enterShared(); // behind the waiting exclusive entry
    expect(late).toBeInstanceOf(Promise);
    void late!.then(() => log.push('late shared in'));
    await tick();
    expect(log).toEqual([]);
    gate.leaveShared();
    await tick();
    expect(log).toEqual([]); // one shared entry still runs
    gate.leaveShared();
    await ex;
    await tick();
    expect(log).toEqual(['exclusive in']);
    gate.leaveExclusive();
    await tick();
    expect(log).toEqual(['exclusive in', 'late shared in']);
    gate.leaveShared();
  });

  it('exclusive entries take turns', async () => {
    const gate = new IsolationGate();
    const order: number[] = [];
    const a = gate.enterExclusive().then(() => order.push(1));
    const b = gate.enterExclusive().then(() => order.push(2));
    await a;
    await tick();
    expect(order).toEqual([1]);
    gate.leaveExclusive();
    await b;
    expect(order).toEqual([1, 2]);
    gate.leaveExclusive();
    expect(gate.enterShared()).toBeUndefined();
  });
});
