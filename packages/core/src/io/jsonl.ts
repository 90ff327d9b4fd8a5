/** One JSONL line: an object, or why it is not one, with its line number (blank lines are skipped). */
export type JsonlRecord =
  | { line: number; record: Record<string, unknown>; error?: undefined }
  | { line: number; error: string };

/**
 * A JSON.parse error's message, the same in Node and in Chromium (which adds where in the text
 * it failed: `(line 1 column 2)`; the position is in both).
 */
export function jsonError(e: unknown): string {
  return (e as Error).message.replace(/ \(line \d+ column \d+\)$/, '');
}

function lineOf(line: number, text: string): JsonlRecord | null {
  const t = text.trim();
  if (!t) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(t);
  } catch (e) {
    return { line, error: `not valid JSON: ${jsonError(e)}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { line, error: 'expected a JSON object { input, groundTruth?, metadata?, externalId? }' };
  return { line, record: raw as Record<string, unknown> };
}

/** Streams the lines of a JSONL text, holding only the unfinished last line between chunks. */
export async function* jsonlRecords(chunks: AsyncIterable<string>): AsyncGenerator<JsonlRecord> {
  let buf = '';
  let line = 0;
  for await (const chunk of chunks) {
    buf += chunk;
    let start = 0;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n', start)) {
      const r = lineOf(++line, buf.slice(start, i));
      start = i + 1;
      if (r) yield r;
    }
    buf = buf.slice(start);
  }
  if (buf) {
    const r = lineOf(++line, buf);
    if (r) yield r;
  }
}
