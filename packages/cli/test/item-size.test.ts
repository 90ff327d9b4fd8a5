import { describe, expect, it } from 'vitest';
import { assay, expectExit, json, workspace } from './helpers.js';

const ws = workspace();
/** A server whose items may be at most 2,000 bytes (ASSAY_MAX_ITEM_BYTES). */
const run = (...args: string[]) => assay(args, ws.dir, { ASSAY_MAX_ITEM_BYTES: '2000' });

describe('assay items import and the server’s item size limit', () => {
  it('reports a line over the limit with its size and the limit, and imports the rest', async () => {
    const lines = [
      JSON.stringify({ input: 'small one', externalId: 'a' }),
      JSON.stringify({ input: 'x'.repeat(3000), externalId: 'big' }),
      JSON.stringify({ input: 'small two', externalId: 'b' }),
      JSON.stringify({ input: 'y'.repeat(2500) }),
    ];
    ws.file('sizes.jsonl', lines.join('\n'));
    const r = await expectExit(run('items', 'import', 'sizes.jsonl', '-d', 'sizes', '--create'), 0);
    expect(r.stderr).toContain(
      'sizes.jsonl line 2: item is 3002 bytes (input + groundTruth + metadata as JSON); the server takes items of at most 2000 bytes (ASSAY_MAX_ITEM_BYTES on the server)',
    );
    expect(r.stderr).toContain('sizes.jsonl line 4: item is 2502 bytes');
    expect(r.stdout).toContain("imported 2 item(s) into 'sizes'");
    const shown = json(await expectExit(run('datasets', 'show', 'sizes', '--json'), 0));
    expect(shown.dataset).toMatchObject({ itemCount: 2 });
  });

  it('--strict refuses the file at the first line over the limit and keeps nothing', async () => {
    ws.file('strict.jsonl', [JSON.stringify({ input: 'ok' }), JSON.stringify({ input: 'z'.repeat(3000) })].join('\n'));
    const r = await expectExit(run('items', 'import', 'strict.jsonl', '-d', 'strict', '--create', '--strict'), 2);
    expect(r.stderr).toContain('strict.jsonl line 2: item is 3002 bytes');
    // The dataset --create would have made is not left behind empty.
    const shown = await expectExit(run('datasets', 'show', 'strict', '--json'), 2);
    expect(shown.stderr).toContain("no dataset with id or name 'strict'");
  });
});
