import { migrateDatabase, VERSION } from '@assay/runtime';
import { Command } from 'commander';
import { registerCacheCommands } from './commands/cache.js';
import { registerDatasetCommands } from './commands/datasets.js';
import { EXIT, usageExits } from './commands/exit.js';
import { registerImportCommands } from './commands/import-mastra.js';
import { registerInitCommand } from './commands/init.js';
import { registerItemCommands } from './commands/items.js';
import { registerRegistryCommands } from './commands/registry.js';
import { registerRunCommand } from './commands/run.js';
import { registerRunsCommands } from './commands/runs.js';
import { deployment, registerServeCommands } from './commands/serve.js';
import { CliError } from './load-config.js';

const program = new Command('assay')
  .description('Durable, resumable dataset runs for AI targets')
  .version(VERSION)
  // A usage error prints the error and one line of help (not the whole help) and exits 2.
  .showHelpAfterError('(see: assay --help)')
  .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.ERROR));

registerServeCommands(program);

const migrate = program
  .command('migrate')
  .description('create or upgrade the database schema (SQLite file, or PostgreSQL with ASSAY_DATABASE_URL), then exit')
  .option('--data-dir <dir>', 'folder of the SQLite database', '.assay')
  .action(async (opts) => {
    const what = await migrateDatabase(deployment(opts.dataDir)).catch((e) => {
      throw new CliError(e instanceof Error ? e.message : String(e));
    });
    console.log(`[assay] database ${what} is up to date`);
  });
usageExits(migrate);

registerInitCommand(program);
registerDatasetCommands(program);
registerItemCommands(program);
registerRunCommand(program);
registerRunsCommands(program);
registerRegistryCommands(program);
registerCacheCommands(program);
registerImportCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  console.error(`assay: ${e instanceof Error ? e.message : e}`);
  process.exit(e instanceof CliError ? 2 : 1);
}
