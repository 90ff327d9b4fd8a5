import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  csvHeader,
  csvLine,
  type ExportableItem,
  type ExportOptions,
  formatCell,
  jsonlLine,
  type ParsedLine,
  parseCell,
  readItems,
} from '../../src/io/index.js';

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
function expected(it: ExportableItem) {
  return {
    ...(it.externalId ? { externalId: it.externalId } : {}),
    input: it.input,
    ...(it.groundTruth !== null && it.groundTruth !== undefined ? { groundTruth: it.groundTruth } : {}),
    ...(it.metadata ? { metadata: it.metadata } : {}),
  };
}

function file(items: ExportableItem[], format: 'csv' | 'jsonl', opts: ExportOptions): string {
  if (format === 'jsonl') return items.map((it) => jsonlLine(it, opts)).join('');
  return csvHeader(opts) + items.map((it) => csvLine(it, opts)).join('');
}

async function importText(text: string, format: 'csv' | 'jsonl', chunk = 13): Promise<ParsedLine[]> {
  async function* chunks() {
    const b = new TextEncoder().encode(text);
    for (let i = 0; i < b.length; i += chunk) yield b.slice(i, i + chunk);
  }
  const out: ParsedLine[] = [];
  for await (const p of readItems(chunks(), { format })) out.push(p);
  return out;
}

describe('export → import gives back the same items', () => {
  for (const format of ['csv', 'jsonl'] as const) {
    for (const id of [false, true]) {
      it(`${format}${id ? ' with the id column (the UI export)' : ''}`, async () => {
        const text = file(TRICKY, format, { id });
        const back = await importText(text, format);
        expect(back.map((p) => p.error)).toEqual(TRICKY.map(() => undefined));
        expect(back.map((p) => p.item)).toEqual(TRICKY.map(expected));
        // import → export → import is stable: the second export is the same text.
        const again = back.map((p) => ({ ...p.item!, id: TRICKY[back.indexOf(p)]!.id }));
        expect(file(again, format, { id })).toBe(text);
      });
    }
  }

  it('any JSON value survives a CSV cell (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => {
        const v = JSON.parse(JSON.stringify(raw)); // -0 is 0 in JSON
        const cell = formatCell(v);
        const back = parseCell(cell);
        // null and undefined are an empty cell: the field is left out.
        expect(back).toEqual(v === null ? null : { value: v });
      }),
      { numRuns: 2000 },
    );
  });

  it('any item survives a CSV file and a JSONL file, at any chunk size (property)', async () => {
    const item = fc.record(
      {
        externalId: fc.string({ minLength: 1 }).filter((s) => s.trim() === s && s !== '' && !s.includes('\u0000')),
        input: fc.jsonValue().filter((v) => v !== null),
        groundTruth: fc.jsonValue(),
        // (a `__proto__` key is dropped by the item schema, on the server as here)
        metadata: fc.dictionary(
          fc.string().filter((k) => k !== '__proto__'),
          fc.jsonValue(),
        ),
      },
      { requiredKeys: ['input'] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(item, { selector: (i) => i.externalId, maxLength: 5 }),
        fc.integer({ min: 1, max: 64 }),
        async (items, chunk) => {
          const clean = JSON.parse(JSON.stringify(items)) as ExportableItem[]; // -0 and the like as JSON has them
          for (const format of ['csv', 'jsonl'] as const) {
            const back = await importText(file(clean, format, {}), format, chunk);
            expect(back.map((p) => p.item ?? p.error)).toEqual(clean.map(expected));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
