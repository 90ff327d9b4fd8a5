import type { ExportableItem } from '../../src/io/index.js';

/** Items whose values are the hard cases: quotes, commas, line breaks, unicode, JSON-looking text, nesting. */
export const TRICKY: ExportableItem[] = [
  { id: 'it_1', externalId: 'q-1', input: 'plain', groundTruth: 'Paris', metadata: { region: 'eu' } },
  { id: 'it_2', input: 'a, "quoted", and\nmulti-line\r\ncell', groundTruth: null, metadata: null },
  { id: 'it_3', input: { question: 'Qué? 日本語 😀', nested: { list: [1, 'two', { three: null }] } }, groundTruth: 42 },
  { id: 'it_4', externalId: 'q,4', input: '42', groundTruth: 'true', metadata: { empty: '', n: 0, b: false } },
  { id: 'it_5', input: '', groundTruth: '', metadata: {} },
  { id: 'it_6', input: ' {not json', groundTruth: '"already quoted"', metadata: { 'key.with.dots': 'v' } },
  { id: 'it_7', input: [1, 2, 3], groundTruth: { a: 'x\ny' }, metadata: { deep: { deeper: ['a,b'] } } },
  { id: 'it_8', input: 'null', groundTruth: -1.5, metadata: { big: '12345678901234567890', z: '007' } },
  { id: 'it_9', input: '  padded  ', groundTruth: 1e21 },
];

/** What import gives back for an exported item: its fields, null ones left out, no id. */
export function expected(it: ExportableItem) {
  return {
    ...(it.externalId ? { externalId: it.externalId } : {}),
    input: it.input,
    ...(it.groundTruth !== null && it.groundTruth !== undefined ? { groundTruth: it.groundTruth } : {}),
    ...(it.metadata ? { metadata: it.metadata } : {}),
  };
}
