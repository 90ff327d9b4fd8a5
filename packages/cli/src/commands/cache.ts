import { type Command, InvalidArgumentError } from 'commander';
import { EXIT, usageExits } from './exit.js';
import { note, printJson, table } from './output.js';
import { type ConnectionOptions, connectionOptions, withSession } from './session.js';

const AGE = /^[1-9]\d{0,6}[dhms]$/;
const age = (v: string) => {
  if (!AGE.test(v)) throw new InvalidArgumentError('must be an age such as 30d, 12h, 90m or 45s');
  return v;
};
const size = (bytes: number) =>
  bytes >= 1 << 20
    ? `${(bytes / (1 << 20)).toFixed(1)} MiB`
    : bytes >= 1024
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${bytes} B`;
const date = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) : '–');

/** `assay cache stats|clear`: the target output cache (docs/targets.md, "Caching outputs"). */
export function registerCacheCommands(program: Command): void {
  const cache = program.command('cache').description('the target output cache: its size, and clearing it');
  connectionOptions(
    cache
      .command('stats')
      .description('entries, size and cost of the stored outputs, by target')
      .option('--target <id>', "only this target's entries"),
  ).action(
    withSession(false, async ({ client }, opts: ConnectionOptions & { target?: string }) => {
      const s = await client.cacheStats({ targetId: opts.target });
      if (opts.json) printJson(s);
      else if (!s.targets.length)
        console.log('the cache is empty: runs store outputs with `--cache write` or `readwrite`');
      else {
        console.log(
          table(
            ['target', 'entries', 'size', 'cost to compute', 'oldest', 'newest'],
            s.targets.map((t) => [
              t.targetId,
              t.entries,
              size(t.bytes),
              `$${t.costUsd.toFixed(4)}`,
              date(t.oldest),
              date(t.newest),
            ]),
          ),
        );
        note(`${s.total.entries} entries, ${size(s.total.bytes)}, $${s.total.costUsd.toFixed(4)} of target calls`);
      }
      return EXIT.OK;
    }),
  );
  connectionOptions(
    cache
      .command('clear')
      .description("delete stored outputs: all of them, one target's, and/or those older than an age")
      .option('--target <id>', "only this target's entries")
      .option('--older-than <age>', 'only entries stored longer ago than this: 30d, 12h, 90m, 45s', age),
  ).action(
    withSession(false, async ({ client }, opts: ConnectionOptions & { target?: string; olderThan?: string }) => {
      const r = await client.clearCache({ targetId: opts.target, olderThan: opts.olderThan });
      if (opts.json) printJson(r);
      else console.log(`${r.deleted} cache entr${r.deleted === 1 ? 'y' : 'ies'} deleted`);
      return EXIT.OK;
    }),
  );
  usageExits(cache);
}
