import { resolve } from 'node:path';
import { createAssay, migrateDatabase, redactUrl, VERSION } from '@assay/runtime';
import { apiKeyFrom, parseAllowedOrigins } from '@assay/server';
import { serve } from '@hono/node-server';
import { Command, InvalidArgumentError, Option } from 'commander';
import { registerDatasetCommands } from './commands/datasets.js';
import { registerInitCommand } from './commands/init.js';
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

/** Where the data lives: PostgreSQL + Redis from the environment, else the SQLite file in `dataDir`. */
function deployment(dataDir: string) {
  return {
    dataDir: resolve(dataDir),
    databaseUrl: process.env.ASSAY_DATABASE_URL || undefined,
    redisUrl: process.env.ASSAY_REDIS_URL || undefined,
    redisPrefix: process.env.ASSAY_REDIS_PREFIX || undefined,
  };
}

function describeDeployment(d: ReturnType<typeof deployment>): string {
  return d.databaseUrl
    ? `storage postgres ${redactUrl(d.databaseUrl)}; queue bullmq ${redactUrl(d.redisUrl ?? '')}`
    : `storage sqlite ${resolve(d.dataDir, 'assay.db')}; queue embedded`;
}

/** Options every process that runs work takes. */
function workerOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'config file (default: assay.config.{ts,mjs,js} in this folder)')
    .option('--data-dir <dir>', 'folder of the SQLite database (unset ASSAY_DATABASE_URL)', '.assay')
    .addOption(
      new Option('--concurrency <n>', 'jobs (run plans and run slots) this worker executes at once')
        .env('ASSAY_WORKER_CONCURRENCY')
        .default(8)
        .argParser(int('--concurrency', 1, 1000)),
    )
    .option(
      '--lease-ms <ms>',
      "job and item lease: how soon a crashed worker's work is taken over",
      int('--lease-ms', 100, 3_600_000),
      15_000,
    )
    .option(
      '--shutdown-timeout <ms>',
      'how long SIGTERM waits for in-flight work',
      int('--shutdown-timeout', 0, 3_600_000),
      10_000,
    )
    .addOption(
      new Option(
        '--run-slots <n>',
        'scaled out: execution slots a run is split into when this worker plans it, i.e. how many workers can share one run (default 4; embedded 1)',
      )
        .env('ASSAY_RUN_SLOTS')
        .argParser(int('--run-slots', 1, 64)),
    )
    .option(
      '--reconcile-ms <ms>',
      'how often the sweeper re-enqueues the jobs of unfinished runs whose jobs went missing (a lost lease, a Redis restart)',
      int('--reconcile-ms', 100, 3_600_000),
      10_000,
    );
}

/** SIGTERM / SIGINT: stop claiming, let in-flight work finish (up to the timeout), hand back the rest, exit 0. */
function onShutdown(timeoutMs: number, close: (timeoutMs: number) => Promise<void>) {
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`[assay] ${signal}: stopping (up to ${timeoutMs} ms for in-flight work)`);
    await close(timeoutMs);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/**
 * `ASSAY_API_KEY` (trimmed; at least 16 characters when set) and `ASSAY_ALLOWED_ORIGINS` (origins
 * whose pages may call the API), checked before anything starts.
 */
function serveSecurityFromEnv() {
  try {
    return {
      apiKey: apiKeyFrom(process.env.ASSAY_API_KEY),
      allowedOrigins: parseAllowedOrigins(process.env.ASSAY_ALLOWED_ORIGINS),
    };
  } catch (e) {
    throw new CliError(`refusing to start: ${e instanceof Error ? e.message : String(e)}`);
  }
}

workerOptions(
  program
    .command('serve')
    .description('serve the HTTP API (and run the worker in the same process unless --no-worker)'),
)
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
  .option('--no-worker', 'serve the API only; run workers elsewhere (assay worker)')
  .option('--seed <file>', 'create the dataset in this JSON file { name, items } unless one of that name exists')
  .action(async (opts) => {
    const { apiKey, allowedOrigins } = serveSecurityFromEnv();
    const loopbackOnly = LOOPBACK.has(opts.host);
    if (!loopbackOnly && !apiKey) {
      throw new CliError(
        `refusing to listen on ${opts.host} without an API key: anyone who can reach it could run your targets. ` +
          'Set ASSAY_API_KEY (clients then send Authorization: Bearer <key>), or listen on 127.0.0.1.',
      );
    }
    const { config, path } = await loadConfig(opts.config);
    const where = deployment(opts.dataDir);
    const threads = threadsFromEnv();
    // The port first: a server that cannot listen exits before it creates a database, seeds a
    // dataset or triggers a run. Until it is ready it answers 503 STARTING.
    let fetch: (req: Request) => Response | Promise<Response> = () =>
      Response.json(
        { error: { code: 'STARTING', message: 'assay serve is starting; try again shortly' } },
        { status: 503 },
      );
    const server = serve({ fetch: (req: Request) => fetch(req), port: opts.port, hostname: opts.host });
    await new Promise<void>((ok, fail) => {
      server.once('listening', ok);
      server.once('error', (e: NodeJS.ErrnoException) =>
        fail(
          new CliError(
            e.code === 'EADDRINUSE'
              ? `port ${opts.port} on ${opts.host} is already in use; pick another with --port`
              : e.code === 'EADDRNOTAVAIL'
                ? `cannot listen on ${opts.host}: no such address on this machine; pick another with --host`
                : e.message,
          ),
        ),
      );
    });
    const assay = await createAssay({
      config,
      configPath: path ?? undefined,
      threads,
      ...where,
      worker: opts.worker,
      apiKey,
      allowedOrigins,
      loopbackOnly,
      leaseMs: opts.leaseMs,
      reconcileMs: opts.reconcileMs,
      workerConcurrency: opts.concurrency,
      slotsPerRun: opts.runSlots,
    }).catch((e) => {
      server.close();
      throw new CliError(e instanceof Error ? e.message : String(e));
    });
    if (opts.seed) {
      const s = await seedDataset(assay.storage, resolve(opts.seed)).catch(async (e) => {
        server.close();
        await assay.close(0);
        throw e;
      });
      console.log(
        `[assay] dataset '${s.name}' (${s.id}, ${s.items} items) ${s.created ? 'seeded' : 'already present'}`,
      );
      for (const body of s.runs) {
        // A seeded run whose target is not in this config is reported, not fatal: the data is in.
        await assay.runs.trigger(s.id, body).then(
          (run) => console.log(`[assay] run ${run.id} on '${s.name}' triggered (target ${body.targetId})`),
          (e) =>
            console.error(
              `[assay] seeded run on target '${body.targetId}' not started: ${e instanceof Error ? e.message : e}`,
            ),
        );
      }
    }
    fetch = assay.app.fetch;
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : opts.port;
    const host = opts.host.includes(':') && !opts.host.startsWith('[') ? `[${opts.host}]` : opts.host;
    console.log(
      `[assay] config ${path ?? '(none: built-in scorers only)'}; ${assay.registry.targets.size} targets, ${assay.registry.scorers.size} scorers`,
    );
    console.log(`[assay] ${describeDeployment(where)}; worker ${opts.worker ? `on (${assay.workerId})` : 'off'}`);
    console.log(`[assay] listening on http://${host}:${port}  (API under /api)`);
    onShutdown(opts.shutdownTimeout, async (ms) => {
      server.close();
      await assay.close(ms);
    });
  });

workerOptions(
  program
    .command('worker')
    .description(
      'run jobs without serving HTTP: with ASSAY_DATABASE_URL and ASSAY_REDIS_URL on any number of machines, or on the SQLite file of this machine',
    ),
).action(async (opts) => {
  const { config, path } = await loadConfig(opts.config);
  const where = deployment(opts.dataDir);
  const assay = await createAssay({
    config,
    configPath: path ?? undefined,
    threads: threadsFromEnv(),
    ...where,
    worker: true,
    leaseMs: opts.leaseMs,
    reconcileMs: opts.reconcileMs,
    workerConcurrency: opts.concurrency,
    slotsPerRun: opts.runSlots,
  }).catch((e) => {
    throw new CliError(e instanceof Error ? e.message : String(e));
  });
  console.log(
    `[assay] config ${path ?? '(none: built-in scorers only)'}; ${assay.registry.targets.size} targets, ${assay.registry.scorers.size} scorers`,
  );
  console.log(`[assay] ${describeDeployment(where)}`);
  console.log(`[assay] worker ${assay.workerId} running up to ${opts.concurrency} jobs at once`);
  onShutdown(opts.shutdownTimeout, (ms) => assay.close(ms));
});

program
  .command('migrate')
  .description('create or upgrade the database schema (SQLite file, or PostgreSQL with ASSAY_DATABASE_URL), then exit')
  .option('--data-dir <dir>', 'folder of the SQLite database', '.assay')
  .action(async (opts) => {
    const what = await migrateDatabase(deployment(opts.dataDir)).catch((e) => {
      throw new CliError(e instanceof Error ? e.message : String(e));
    });
    console.log(`[assay] database ${what} is up to date`);
  });

/** `ASSAY_THREADS`: worker threads that run targets and scorers (default: the CPU count, at least 2). */
function threadsFromEnv(): number | undefined {
  const raw = process.env.ASSAY_THREADS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 32)
    throw new CliError(`ASSAY_THREADS must be an integer from 1 to 32, got '${raw}'`);
  return n;
}

registerInitCommand(program);
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
