import { describe, expect, it } from 'vitest';
import {
  csvRows,
  ImportFileError,
  type Mapping,
  type ParsedLine,
  planColumns,
  previewFile,
  readItems,
  suggestTarget,
  textChunks,
} from '../../src/io/index.js';

/** The bytes of `text`, cut into chunks of `size` bytes (multi-byte characters cut too). */
function bytes(text: string, size = 7): ReadableStream<Uint8Array> {
  const all = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= all.length) return c.close();
      c.enqueue(all.slice(at, at + size));
      at += size;
    },
  });
}

async function read(text: string, format: 'csv' | 'jsonl', mapping?: Mapping, size = 7): Promise<ParsedLine[]> {
  const out: ParsedLine[] = [];
  for await (const p of readItems(bytes(text, size), { format, mapping })) out.push(p);
  return out;
}

async function refusal(text: string, format: 'csv' | 'jsonl', mapping?: Mapping): Promise<ImportFileError> {
  try {
    await read(text, format, mapping);
  } catch (e) {
    if (e instanceof ImportFileError) return e;
    throw e;
  }
  throw new Error('the file was not refused');
}

describe('csvRows', () => {
  it('numbers each record by the line it starts on, at every chunk size, with LF, CRLF or CR line breaks', async () => {
    const lf = 'a,b\n1,"two\nlines"\n\n"x ""q""",y\n3,é€😀\n';
    for (const text of [lf, lf.replace(/\n/g, '\r\n'), lf.replace(/\n/g, '\r'), `\uFEFF${lf}`]) {
      for (const size of [1, 2, 3, 5, 64, 4096]) {
        const rows = [];
        for await (const r of csvRows(textChunks(bytes(text, size)))) rows.push(r);
        const nl = text.includes('\r\n') ? '\r\n' : text.includes('\n') ? '\n' : '\r';
        expect(rows).toEqual([
          { line: 1, fields: ['a', 'b'] },
          { line: 2, fields: ['1', `two${nl}lines`] },
          { line: 5, fields: ['x "q"', 'y'] },
          { line: 6, fields: ['3', 'é€😀'] },
        ]);
      }
    }
  });

  it('reports an unterminated quote on the line the record starts', async () => {
    const rows = [];
    for await (const r of csvRows(textChunks(bytes('a,b\n1,2\n3,"open\nnever closed\n')))) rows.push(r);
    expect(rows[2]).toEqual({ line: 3, error: 'Quoted field unterminated' });
  });
});

describe('readItems', () => {
  it('CSV: dotted columns build objects, cells holding JSON are parsed, an id column is ignored', async () => {
    const csv = [
      'id,externalId,input.question,input.n,groundTruth,metadata.region,metadata.tags',
      'it_1, e1 ,"What, is ""this""?",42,"{""a"":[1,null]}",eu,"[""x""]"',
      'it_2,,plain text,007,true,,',
    ].join('\n');
    expect(await read(csv, 'csv')).toEqual([
      {
        line: 2,
        item: {
          externalId: 'e1',
          input: { question: 'What, is "this"?', n: 42 },
          groundTruth: { a: [1, null] },
          metadata: { region: 'eu', tags: ['x'] },
        },
      },
      { line: 3, item: { input: { question: 'plain text', n: '007' }, groundTruth: true } },
    ]);
  });

  it('CSV: refuses a header with unknown columns, clashing columns or no input (line 1), before any record', async () => {
    const e = await refusal('question,answer,input\nq,a,x\n', 'csv');
    expect(e.line).toBe(1);
    expect(e.message).toBe("unknown column(s) 'question', 'answer'");
    expect(e.unknown).toEqual(['question', 'answer']);
    expect((await refusal('input,input.q\n1,2\n', 'csv')).message).toBe(
      "input is given whole (column 'input') and by key (column 'input.q'): use one or the other",
    );
    expect((await refusal('groundTruth\nx\n', 'csv')).message).toBe('no input column');
    expect((await refusal('a,b\n1,2\n', 'csv', { a: 'input', b: 'inptu' })).message).toContain(
      "column 'b' is mapped to 'inptu', which is not a field",
    );
  });

  it('CSV: a mapping names what other columns are; bare metadata keeps the column name as the key', async () => {
    const csv = 'question,expected,topic,notes\nq1,a1,geo,skip me\n';
    const mapping = { question: 'input', expected: 'groundTruth', topic: 'metadata', notes: 'ignore' };
    expect(await read(csv, 'csv', mapping)).toEqual([
      { line: 2, item: { input: 'q1', groundTruth: 'a1', metadata: { topic: 'geo' } } },
    ]);
  });

  it('CSV: bad records are reported with their first line; the rest are read', async () => {
    const csv = [
      'externalId,input.question,groundTruth',
      'c1,"two',
      'lines",Rome',
      'c2,only two',
      'c3,"{""broken",x',
      'c4,,Lima',
      'c1,again,x',
    ].join('\n');
    const out = await read(csv, 'csv');
    expect(out.map((p) => [p.line, p.error ?? 'ok'])).toEqual([
      [2, 'ok'],
      [4, 'Invalid Record Length: the header has 3 columns, this record has 2'],
      [5, expect.stringMatching(/^column input\.question: not valid JSON/)],
      [6, 'input: is required'],
      [7, "externalId 'c1' is already used on line 2"],
    ]);
  });

  it('JSONL: the same mapping rules per line; unknown keys, bad JSON and non-objects are line errors', async () => {
    const jsonl = [
      '{"id":"it_1","externalId":null,"input":{"q":1},"groundTruth":null,"metadata":null}',
      'not json',
      '',
      '{"input":2,"extra":true}',
      '[1]',
      '{"input.q":"x","metadata.region":"eu"}',
      '{"groundTruth":"no input"}',
      '{"input":3,"input.q":4}',
    ].join('\r\n');
    const out = await read(jsonl, 'jsonl');
    expect(out.map((p) => [p.line, p.error ?? p.item])).toEqual([
      [1, { externalId: null, input: { q: 1 }, groundTruth: null, metadata: null }],
      [2, expect.stringMatching(/^not valid JSON: /)],
      [4, 'Unrecognized key: "extra"'],
      [5, 'expected a JSON object { input, groundTruth?, metadata?, externalId? }'],
      [6, { input: { q: 'x' }, metadata: { region: 'eu' } }],
      [7, 'input: is required'],
      [8, "input is given whole (column 'input') and by key (column 'input.q'): use one or the other"],
    ]);
    expect((await read('{"input":1,"prompt":"p"}', 'jsonl', { prompt: 'metadata' }))[0]).toEqual({
      line: 1,
      item: { input: 1, metadata: { prompt: 'p' } },
    });
  });

  it('check refuses an item with its message; an empty file has no items', async () => {
    const out: ParsedLine[] = [];
    for await (const p of readItems(bytes('input\n1\n2\n'), {
      format: 'csv',
      check: (it) => (it.input === 2 ? 'input: must be 1' : null),
    }))
      out.push(p);
    expect(out).toEqual([
      { line: 2, item: { input: 1 } },
      { line: 3, error: 'input: must be 1' },
    ]);
    expect(await read('', 'csv')).toEqual([]);
    expect(await read('\n\n', 'jsonl')).toEqual([]);
  });

  it('reads Node-style sources too (an async iterable of byte chunks) and reports the bytes read', async () => {
    let n = 0;
    async function* chunks() {
      yield new TextEncoder().encode('{"input":"é"}\n');
      yield new TextEncoder().encode('{"input":"x"}');
    }
    const out: ParsedLine[] = [];
    for await (const p of readItems(chunks(), { format: 'jsonl', onBytes: (b) => (n += b) })) out.push(p);
    expect(out.map((p) => p.item?.input)).toEqual(['é', 'x']);
    expect(n).toBe(28);
  });
});

describe('streaming', () => {
  it('yields the first items after reading the first chunks, not the whole file', async () => {
    for (const format of ['csv', 'jsonl'] as const) {
      let pulled = 0;
      const line =
        format === 'csv' ? 'some input,"a ""quoted"", cell"\n' : '{"input":"some input","groundTruth":"x"}\n';
      async function* huge() {
        if (format === 'csv') yield 'input,groundTruth\n';
        // ~50 MB if read to the end: 200,000 chunks of 256 bytes and more.
        for (pulled = 0; pulled < 200_000; pulled++) yield line.repeat(8);
      }
      let n = 0;
      for await (const p of readItems(huge(), { format })) {
        expect(p.error).toBeUndefined();
        if (++n === 20) break;
      }
      expect(pulled, format).toBeLessThan(5);
    }
  });
});

describe('columns and preview', () => {
  it('suggests targets from common names, but planColumns applies only names and mappings', () => {
    expect(['question', 'Expected', 'id', 'metadata.region', 'ground_truth', 'colour'].map(suggestTarget)).toEqual([
      'input',
      'groundTruth',
      'ignore',
      'metadata.region',
      'groundTruth',
      null,
    ]);
    const plan = planColumns(['question', 'input', 'input'], {});
    expect(plan.unknown).toEqual(['question']);
    expect(plan.errors).toEqual(["columns 'input' and 'input' both map to input"]);
  });

  it('previews the first rows and stops reading there', async () => {
    let pulled = 0;
    const lines = ['a,b', ...Array.from({ length: 1000 }, (_, i) => `${i},x`)].join('\n');
    const all = new TextEncoder().encode(lines);
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (pulled * 10 >= all.length) return c.close();
        c.enqueue(all.slice(pulled * 10, ++pulled * 10));
      },
    });
    const p = await previewFile(stream, 'csv', 5);
    expect(p.columns).toEqual(['a', 'b']);
    expect(p.rows).toEqual(['0', '1', '2', '3', '4'].map((a) => ({ a, b: 'x' })));
    expect(pulled).toBeLessThan(10);
  });
});
