import type { Command } from 'commander';
import { EXIT, usageExits } from './exit.js';
import { printJson, table } from './output.js';
import { type ConnectionOptions, connectionOptions, withSession } from './session.js';

/** `assay targets list` and `assay scorers list`: what `--target` and `--scorer` accept. */
export function registerRegistryCommands(program: Command): void {
  const targets = program.command('targets').description('targets the config defines');
  connectionOptions(targets.command('list').description('list targets (what `assay run --target` accepts)')).action(
    withSession(false, async ({ client }, opts: ConnectionOptions) => {
      const list = await client.listTargets();
      if (opts.json) printJson({ targets: list });
      else if (!list.length) console.log('no targets: define them in assay.config.{ts,mjs,js} (or pass --config)');
      else
        console.log(
          table(
            ['id', 'type', 'max concurrency', 'description'],
            list.map((t) => [t.id, t.type, t.maxConcurrency ?? '', t.description ?? '']),
          ),
        );
      return EXIT.OK;
    }),
  );
  const scorers = program.command('scorers').description('built-in and configured scorers');
  connectionOptions(scorers.command('list').description('list scorers (what `assay run --scorer` accepts)')).action(
    withSession(false, async ({ client }, opts: ConnectionOptions) => {
      const list = await client.listScorers();
      if (opts.json) printJson({ scorers: list });
      else
        console.log(
          table(
            ['id', 'kind', 'description'],
            list.map((s) => [s.id, s.builtIn ? 'built-in' : 'config', s.description ?? '']),
          ),
        );
      return EXIT.OK;
    }),
  );
  usageExits(targets);
  usageExits(scorers);
}
