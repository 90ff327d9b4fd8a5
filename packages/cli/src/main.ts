import { resolve } from 'node:path';
import { createAssay, VERSION } from '@assay/server';
import { serve } from '@hono/node-server';
import { Command, InvalidArgumentError, Option } from 'commander';
import { registerDatasetCommands } from './commands/datasets.js';
import { registerItemCommands } from './commands/items.js';
import { registerRegistryCommands } from './commands/registry.js';
import { registerRunCommand } from './commands/run.js';
import { registerRunsCommands } from './commands/runs.js';
import { CliError, loadConfig } from './load-config.js';
import { seedDataset } from './seed.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

const int = (name: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
  return n;
};

const program = new Command('assay')
  .description('Durable, resumable dataset runs for AI targets')
  .version(VERSION)
  .showHelpAfterError();

program
  .command('serve')
  .description('serve the HTTP API (and run the worker in the same process unless --no-worker)')
  .option('--config <file>', 'config file (default: assay.config.{ts,mjs,js} in this folder)')
  .option('--data-dir <dir>', 'folder of the SQLite database', '.assay')
  .addOption(
    new Option('--port <n>', 'port to listen on')
      .env('PORT')
      .default(4141)
      .argParser(int('--port', 0, 65535)),
  )
  .addOption(
    new Option('--host <host>', 'address to listen on; non-loopback needs ASSAY_API_KEY')
      .env('HOST')
      .default('127.0.0.1'),
  )
  .option('--no-worker', 'serve the API only; run the worker elsewhere')
  .option('--seed <file>', 'create the dataset in this JSON file { name, items } unless one of that name exists')
  .option(
    '--lease-ms <ms>',
    "job lease: how soon a crashed worker's run is taken over",
    int('--lease-ms', 100, 3_600_000),
    15_000,
  )
  .option(
    '--shutdown-timeout <ms>',
    'how long SIGTERM waits for in-flight work',
    int('--shutdown-timeout', 0, 3_600_000),
    10_000,
  )
  .action(async (opts) => {
    const apiKey = process.env.ASSAY_API_KEY || undefined;
    if (!LOOPBACK.has(opts.host) && !apiKey) {
      throw new CliError(
        `refusing to listen on ${opts.host} without an API key: anyone who can reach it could run your targets. ` +
          'Set ASSAY_API_KEY (clients then send Authorization: Bearer <key>), or listen on 127.0.0.1.',
      );
    }
    const { config, path } = await loadConfig(opts.config);
    const dataDir = resolve(opts.dataDir);
    const assay = await createAssay({
      config,
      dataDir,
      worker: opts.worker,
      apiKey,
      leaseMs: opts.leaseMs,
      workerConcurrency: opts.concurrentRuns,
    });
    if (opts.seed) {
      const s = await seedDataset(assay.storage, resolve(opts.seed));
      console.log(
        `[assay] dataset '${s.name}' (${s.id}, ${s.items} items) ${s.created ? 'seeded' : 'already present'}`,
      );
    }
    const server = serve({ fetch: assay.app.fetch, port: opts.port, hostname: opts.host });
    await new Promise<void>((ok, fail) => {
      server.once('listening', ok);
      server.once('error', (e: NodeJS.ErrnoException) =>
        fail(
          new CliError(
            e.code === 'EADDRINUSE'
              ? `port ${opts.port} on ${opts.host} is already in use; pick another with --port`
              : e.message,
          ),
        ),
      );
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : opts.port;
    const host = opts.host.includes(':') && !opts.host.startsWith('[') ? `[${opts.host}]` : opts.host;
    console.log(
      `[assay] config ${path ?? '(none: built-in scorers only)'}; ${assay.registry.targets.size} targets, ${assay.registry.scorers.size} scorers`,
    );
    console.log(`[assay] storage sqlite ${resolve(dataDir, 'assay.db')}; worker ${opts.worker ? 'on' : 'off'}`);
    console.log(`[assay] listening on http://${host}:${port}  (API under /api)`);
    let closing = false;
    const shutdown = async (signal: string) => {
      if (closing) return;
      closing = true;
      console.log(`[assay] ${signal}: stopping (up to ${opts.shutdownTimeout} ms for in-flight work)`);
      server.close();
      await assay.close(opts.shutdownTimeout);
      process.exit(0);
    };
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGINT', () => void shutdown('SIGINT'));
  });

program
  .command('migrate')
  .description('create or upgrade the database schema, then exit')
  .option('--data-dir <dir>', 'folder of the SQLite database', '.assay')
  .action(async (opts) => {
    const dataDir = resolve(opts.dataDir);
    const assay = await createAssay({ config: { targets: [] }, dataDir, worker: false });
    await assay.close();
    console.log(`[assay] database ${resolve(dataDir, 'assay.db')} is up to date`);
  });

registerDatasetCommands(program);
registerItemCommands(program);
registerRunCommand(program);
registerRunsCommands(program);
registerRegistryCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  console.error(`assay: ${e instanceof Error ? e.message : e}`);
  process.exit(e instanceof CliError ? 2 : 1);
}
