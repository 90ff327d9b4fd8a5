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
import { expected, TRICKY } from './fixtures.js';

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
