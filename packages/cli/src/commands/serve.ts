/**
 * The long-running commands: `assay serve` (HTTP API and UI, and the worker unless --no-worker)
 * and `assay worker` (jobs only). What they say goes through a levelled logger (logs.ts): JSON
 * lines or pretty text on stdout, each run's lines carrying its `runId`. A start that fails is a
 * CliError on stderr, as for every command.
 */
import { resolve } from 'node:path';
import type { Logger } from '@assay/core';
import { type Assay, createAssay, redactUrl } from '@assay/runtime';
import { apiKeyFrom, metricsApp, parseAllowedOrigins } from '@assay/server';
import { serve } from '@hono/node-server';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CliError, loadConfig } from '../load-config.js';
import { seedDataset } from '../seed.js';
import { usageExits } from './exit.js';
import { loggerFrom, logOptions } from './logs.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export const int = (name: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
  return n;
};

/** Where the data lives: PostgreSQL + Redis from the environment, else the SQLite file in `dataDir`. */
export function deployment(dataDir: string) {
  return {
    dataDir: resolve(dataDir),
    databaseUrl: process.env.ASSAY_DATABASE_URL || undefined,
    redisUrl: process.env.ASSAY_REDIS_URL || undefined,
    redisPrefix: process.env.ASSAY_REDIS_PREFIX || undefined,
  };
}

function describeDeployment(d: ReturnType<typeof deployment>) {
  return d.databaseUrl
    ? {
        text: `storage postgres ${redactUrl(d.databaseUrl)}; queue bullmq ${redactUrl(d.redisUrl ?? '')}`,
        fields: { storage: 'postgres', queue: 'bullmq' },
      }
    : {
        text: `storage sqlite ${resolve(d.dataDir, 'assay.db')}; queue embedded`,
        fields: { storage: 'sqlite', queue: 'sqlite', file: resolve(d.dataDir, 'assay.db') },
      };
}

/** Options every process that runs work takes. */
function workerOptions(cmd: Command): Command {
  return logOptions(
    cmd
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
      ),
  );
}

/** SIGTERM / SIGINT: stop claiming, let in-flight work finish (up to the timeout), hand back the rest, exit 0. */
function onShutdown(log: Logger, timeoutMs: number, close: (timeoutMs: number) => Promise<void>) {
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal, timeoutMs }, `${signal}: stopping (up to ${timeoutMs} ms for in-flight work)`);
    await close(timeoutMs);
    log.info({ signal }, 'stopped');
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

/** `ASSAY_THREADS`: worker threads that run targets and scorers (default: the CPU count, at least 2). */
function threadsFromEnv(): number | undefined {
  const raw = process.env.ASSAY_THREADS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 32)
    throw new CliError(`ASSAY_THREADS must be an integer from 1 to 32, got '${raw}'`);
  return n;
}

/** Listens on `host:port`; a port in use or an address this machine lacks is a CliError naming the option. */
async function listen(
  fetch: (req: Request) => Response | Promise<Response>,
  port: number,
  host: string,
  flags = { port: '--port', host: '--host' },
) {
  const server = serve({ fetch, port, hostname: host });
  await new Promise<void>((ok, fail) => {
    server.once('listening', ok);
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(
        new CliError(
          e.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is already in use; pick another with ${flags.port}`
            : e.code === 'EADDRNOTAVAIL'
              ? `cannot listen on ${host}: no such address on this machine; pick another with ${flags.host}`
              : e.message,
        ),
      ),
    );
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return { server, url: `http://${shown}:${bound}` };
}

/** What `assay worker --metrics-port` serves: `/metrics` and the readiness probe `/api/ready`. */
function probes(assay: Assay, apiKey: string | undefined) {
  const ready = { storage: assay.storage, storageHealth: assay.storageHealth, queue: assay.queue };
  return metricsApp(assay.metrics, { apiKey, ready }).fetch;
}

export function registerServeCommands(program: Command): void {
  const serveCommand = workerOptions(
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
      const log = loggerFrom(opts, 'serve');
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
      const { server, url } = await listen((req) => fetch(req), opts.port, opts.host);
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
        logger: log,
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
        log.info(
          { datasetId: s.id, items: s.items, created: s.created },
          `dataset '${s.name}' (${s.id}, ${s.items} items) ${s.created ? 'seeded' : 'already present'}`,
        );
        for (const body of s.runs) {
          // A seeded run whose target is not in this config is reported, not fatal: the data is in.
          await assay.runs.trigger(s.id, body).then(
            (run) =>
              log.info(
                { runId: run.id, datasetId: s.id, targetId: body.targetId },
                `run ${run.id} on '${s.name}' triggered (target ${body.targetId})`,
              ),
            (e) =>
              log.warn(
                { datasetId: s.id, targetId: body.targetId, err: e },
                `seeded run on target '${body.targetId}' not started: ${e instanceof Error ? e.message : e}`,
              ),
          );
        }
      }
      fetch = assay.app.fetch;
      const d = describeDeployment(where);
      log.info(
        { config: path, targets: assay.registry.targets.size, scorers: assay.registry.scorers.size },
        `config ${path ?? '(none: built-in scorers only)'}; ${assay.registry.targets.size} targets, ${assay.registry.scorers.size} scorers`,
      );
      log.info(
        { ...d.fields, worker: opts.worker ? assay.workerId : null },
        `${d.text}; worker ${opts.worker ? `on (${assay.workerId})` : 'off'}`,
      );
      log.info({ url }, `listening on ${url}  (API under /api, metrics at /metrics)`);
      onShutdown(log, opts.shutdownTimeout, async (ms) => {
        server.close();
        await assay.close(ms);
      });
    });

  const workerCommand = workerOptions(
    program
      .command('worker')
      .description(
        'run jobs without serving HTTP: with ASSAY_DATABASE_URL and ASSAY_REDIS_URL on any number of machines, or on the SQLite file of this machine',
      ),
  )
    .addOption(
      new Option(
        '--metrics-port <n>',
        "serve this worker's Prometheus metrics at /metrics, and its readiness at /api/ready, on this port",
      )
        .env('ASSAY_METRICS_PORT')
        .argParser(int('--metrics-port', 0, 65535)),
    )
    .addOption(
      new Option('--metrics-host <host>', 'address the metrics listen on (with --metrics-port)')
        .env('ASSAY_METRICS_HOST')
        .default('127.0.0.1'),
    )
    .action(async (opts) => {
      // The metrics answer only with the API key when one is set, as the server's do.
      const apiKey = opts.metricsPort === undefined ? undefined : serveSecurityFromEnv().apiKey;
      const log = loggerFrom(opts, 'worker');
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
        logger: log,
      }).catch((e) => {
        throw new CliError(e instanceof Error ? e.message : String(e));
      });
      const metrics =
        opts.metricsPort === undefined
          ? undefined
          : await listen(probes(assay, apiKey), opts.metricsPort, opts.metricsHost, {
              port: '--metrics-port',
              host: '--metrics-host',
            }).catch(async (e) => {
              await assay.close(0);
              throw e;
            });
      log.info(
        { config: path, targets: assay.registry.targets.size, scorers: assay.registry.scorers.size },
        `config ${path ?? '(none: built-in scorers only)'}; ${assay.registry.targets.size} targets, ${assay.registry.scorers.size} scorers`,
      );
      const d = describeDeployment(where);
      log.info(d.fields, d.text);
      if (metrics) log.info({ url: `${metrics.url}/metrics` }, `metrics at ${metrics.url}/metrics`);
      log.info(
        { workerId: assay.workerId, concurrency: opts.concurrency },
        `worker ${assay.workerId} running up to ${opts.concurrency} jobs at once`,
      );
      onShutdown(log, opts.shutdownTimeout, async (ms) => {
        metrics?.server.close();
        await assay.close(ms);
      });
    });
  usageExits(serveCommand);
  usageExits(workerCommand);
}
