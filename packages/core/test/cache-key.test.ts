import { describe, expect, it } from 'vitest';
import { canonicalHash, canonicalJson } from '../src/canonical.js';
import { type CachePlan, itemCacheKey } from '../src/engine/cache.js';
import type { WorkItem } from '../src/ports.js';

/** The key as it was first defined: the hash of the canonical JSON of its parts. */
const reference = (plan: CachePlan, item: WorkItem, custom: string | null = null) => {
  const fields: Record<string, unknown> = { input: item.input };
  for (const f of plan.itemFields)
    fields[f] = f === 'itemId' ? item.itemId : f === 'groundTruth' ? item.groundTruth : item.metadata;
  return canonicalHash({
    target: plan.targetId,
    fingerprint: plan.fingerprint,
    custom,
    item: canonicalHash(fields),
    repetition: item.repetition,
  });
};

const plan = (over: Partial<CachePlan> = {}): CachePlan => ({
  mode: 'readwrite',
  read: true,
  write: true,
  targetId: 'answer "quoted" ✓',
  fingerprint: 'sha "quoted"\n{{input}} ✓',
  itemFields: [],
  perItem: false,
  ...over,
});

const item = (over: Partial<WorkItem> = {}): WorkItem =>
  ({
    itemId: 'i1',
    repetition: 0,
    attempt: 1,
    input: { q: 'what?', n: 2, nested: { y: [3, 'x'], x: true } },
    groundTruth: 'yes',
    metadata: { tag: 'a' },
    ...over,
  }) as WorkItem;

describe('itemCacheKey', () => {
  it('gives the keys stored entries were written under, for every kind of plan and item', () => {
    const plans = [
      plan(),
      plan({ fingerprint: 'a string fingerprint' }),
      plan({ fingerprint: '' }),
      plan({ itemFields: ['groundTruth', 'metadata'] }),
      plan({ itemFields: ['itemId'] }),
    ];
    const items = [
      item(),
      item({ repetition: 2 }),
      item({ input: 'plain text' }),
      item({ input: null }),
      item({ input: [{ b: 1, a: 2 }] }),
    ];
    for (const p of plans)
      for (const it of items) {
        expect(itemCacheKey(p, it)).toBe(reference(p, it));
        expect(itemCacheKey(p, it, '{"k":1}')).toBe(reference(p, it, '{"k":1}'));
      }
  });

  it('differs by input, repetition, target and fingerprint; not by key order', () => {
    const base = itemCacheKey(plan(), item());
    expect(itemCacheKey(plan(), item({ input: { n: 2, q: 'what?', nested: { x: true, y: [3, 'x'] } } }))).toBe(base);
    expect(itemCacheKey(plan(), item({ repetition: 1 }))).not.toBe(base);
    expect(itemCacheKey(plan(), item({ input: { q: 'what?' } }))).not.toBe(base);
    expect(itemCacheKey(plan({ targetId: 'other' }), item())).not.toBe(base);
    expect(itemCacheKey(plan({ fingerprint: 'changed' }), item())).not.toBe(base);
  });
});

describe('canonicalJson', () => {
  it('sorts every object’s keys and keeps what JSON.stringify keeps, __proto__ keys included', () => {
    const value = JSON.parse('{"b":1,"__proto__":{"y":2,"x":1},"10":[{"z":1,"a":2}],"2":null,"u":"ü"}');
    expect(canonicalJson(value)).toBe('{"2":null,"10":[{"a":2,"z":1}],"__proto__":{"x":1,"y":2},"b":1,"u":"ü"}');
    expect(canonicalJson({ a: undefined, b: [undefined], d: new Date(0) })).toBe(
      '{"b":[null],"d":"1970-01-01T00:00:00.000Z"}',
    );
    expect(canonicalJson(undefined)).toBe('null');
  });
});
