import { isTruncated, type RescoreRunInput } from '@assay/client';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { comparisonText } from './comparison.js';
import { intArg, pageOptions } from './datasets.js';
import { EXIT, usage, usageExits } from './exit.js';
import { parseAlpha } from './gates.js';
import { ms, note, pc, printJson, runDuration, score, statusColor, summaryText, table } from './output.js';
import { findRun, resolveDataset } from './resolve.js';
import { type ConnectionOptions, connectionOptions, type Session, withSession } from './session.js';
import { type InterruptAction, watchRun } from './watch.js';

interface RunRefOptions extends ConnectionOptions {
  dataset?: string;
}

const datasetOption = (c: Command) =>
  c.option('-d, --dataset <dataset>', "the run's dataset (id or name); without it every dataset is searched");
const interruptOption = () =>
  new Option('--on-interrupt <action>', 'what Ctrl-C does (ask needs a terminal; else detach)')
    .choices(['ask', 'cancel', 'detach'])
    .default('ask');

const date = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) : '–');
const preview = (v: unknown, max = 60) => {
  // A value the results page cut to a marker shows the start of its text.
  const s = isTruncated(v) ? v.preview : typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

async function follow(
  session: Session,
  datasetId: string,
  runId: string,
  opts: ConnectionOptions & { bar: boolean; onInterrupt: InterruptAction },
): Promise<number> {
  const outcome = await watchRun(session.client, datasetId, runId, {
    bar: opts.bar,
    onInterrupt: opts.onInterrupt,
    local: session.local,
  });
  if (outcome.detached) return EXIT.INTERRUPTED;
  if (opts.json) printJson(outcome.run);
  else console.log(summaryText(outcome.run));
  return outcome.run.status === 'completed' ? EXIT.OK : EXIT.RUN_FAILED;
}

const fractionArg = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`${name} must be a number from 0 to 1`);
  return n;
};

/** `assay runs list|show|watch|cancel|retry|rescore|compare`. */
export function registerRunsCommands(program: Command): void {
  const runs = program.command('runs').description('list, show, watch, cancel, retry, re-score and compare runs');

  connectionOptions(
    pageOptions(
      runs.command('list').description("a dataset's runs, newest first").argument('<dataset>', 'dataset id or name'),
    ),
  ).action(
    withSession(false, async ({ client }, ref: string, opts: ConnectionOptions & { page: number; perPage: number }) => {
      const ds = await resolveDataset(client, ref);
      const r = await client.listRuns(ds.id, { page: opts.page, perPage: opts.perPage });
      if (opts.json) {
        printJson(r);
        return EXIT.OK;
      }
      if (!r.runs.length) {
        console.log(`no runs of '${ds.name}' yet: \`assay run ${ds.name} --target ID\``);
        return EXIT.OK;
      }
      console.log(
        table(
          ['run', 'name', 'status', 'target', 'done', 'failed', 'scores (mean)', 'took', 'created'],
          r.runs.map((x) => [
            x.id,
            x.name ?? '',
            statusColor(x.status),
            x.targetId,
            `${x.succeededCount + x.failedCount}/${x.totalItems}`,
            x.failedCount,
            (x.summary?.scorers ?? []).map((s) => `${s.scorerId} ${score(s.mean)}`).join(', '),
            runDuration(x),
            date(x.createdAt),
          ]),
        ),
      );
      if (r.pagination.hasMore) note(`${r.pagination.total} runs; next page: --page ${r.pagination.page + 1}`);
      return EXIT.OK;
    }),
  );

  connectionOptions(
    datasetOption(
      runs
        .command('show')
        .description('a run: status, counts, per-scorer summary; with --results its results')
        .argument('<run>', 'run id')
        .option('--results', 'also list results (one page)')
        .addOption(
          new Option('--status <status>', 'only results of this status').choices([
            'queued',
            'running',
            'succeeded',
            'failed',
            'cancelled',
            'skipped',
          ]),
        )
        .option('--page <n>', 'results page, from 0', intArg('--page', 0), 0)
        .option('--per-page <n>', 'results per page (1–1000)', intArg('--per-page', 1, 1000), 20),
    ),
  ).action(
    withSession(
      false,
      async (
        { client },
        runId: string,
        opts: RunRefOptions & { results?: boolean; status?: 'failed'; page: number; perPage: number },
      ) => {
        const run = await findRun(client, runId, opts.dataset);
        const results =
          opts.results || opts.status
            ? await client.listRunResults(run.datasetId, run.id, {
                status: opts.status,
                page: opts.page,
                perPage: opts.perPage,
              })
            : undefined;
        if (opts.json) {
          printJson(results ? { run, results: results.results, pagination: results.pagination } : run);
          return EXIT.OK;
        }
        console.log(summaryText(run));
        console.log(
          `created ${date(run.createdAt)} · started ${date(run.startedAt)} · ended ${date(run.completedAt)}` +
            (run.name ? ` · name ${run.name}` : '') +
            ` · concurrency ${run.options.maxConcurrency}, timeout ${ms(run.options.itemTimeoutMs)}, retries ${run.options.maxRetries}`,
        );
        if (results) {
          console.log(
            `\nresults${opts.status ? ` (${opts.status})` : ''}: page ${results.pagination.page}, ${results.pagination.total} in all`,
          );
          console.log(
            table(
              ['item', 'rep', 'status', 'latency', 'input', 'output / error', 'scores'],
              results.results.map((r) => [
                r.itemId,
                r.repetition,
                statusColor(r.status),
                ms(r.latencyMs),
                preview(r.input, 40),
                r.error ? pc.red(preview(r.error.message, 60)) : preview(r.output, 60),
                r.scores.map((s) => `${s.scorerId} ${score(s.score)}`).join(', '),
              ]),
            ),
          );
        }
        return EXIT.OK;
      },
    ),
  );

  connectionOptions(
    datasetOption(
      runs
        .command('watch')
        .description('follow a run to its end with a progress bar (exit 0 completed, 3 failed or cancelled)')
        .argument('<run>', 'run id')
        .option('--no-bar', 'no progress bar: one line per status change')
        .addOption(interruptOption()),
    ),
  ).action(
    withSession(
      true,
      async (session, runId: string, opts: RunRefOptions & { bar: boolean; onInterrupt: InterruptAction }) => {
        const run = await findRun(session.client, runId, opts.dataset);
        return follow(session, run.datasetId, run.id, { ...opts, bar: opts.bar });
      },
    ),
  );

  connectionOptions(
    datasetOption(runs.command('cancel').description('cancel a pending or running run').argument('<run>', 'run id')),
  ).action(
    withSession(false, async ({ client }, runId: string, opts: RunRefOptions) => {
      const run = await findRun(client, runId, opts.dataset);
      const r = await client.cancelRun(run.datasetId, run.id);
      if (opts.json) printJson(r);
      else
        console.log(
          r.status === 'cancelled' ? `run ${r.id} cancelled` : `run ${r.id}: cancel requested; it stops shortly`,
        );
      return EXIT.OK;
    }),
  );

  connectionOptions(
    datasetOption(
      runs
        .command('retry')
        .description("run a finished run's failed, cancelled and skipped items again (earlier attempts are kept)")
        .argument('<run>', 'run id')
        .option('-w, --watch', 'follow it to the end (always, in local mode: this process executes it)')
        .addOption(interruptOption()),
    ),
  ).action(
    withSession(
      true,
      async (session, runId: string, opts: RunRefOptions & { watch?: boolean; onInterrupt: InterruptAction }) => {
        const run = await findRun(session.client, runId, opts.dataset);
        const r = await session.client.retryRun(run.datasetId, run.id);
        note(`run ${r.id} is ${r.status} again: retrying its failed, cancelled and skipped items`);
        if (!opts.watch && !session.local) {
          if (opts.json) printJson(r);
          return EXIT.OK;
        }
        return follow(session, run.datasetId, run.id, { ...opts, bar: Boolean(opts.watch) });
      },
    ),
  );

  const collect = (v: string, prev: string[] = []) => [...prev, v];

  connectionOptions(
    datasetOption(
      runs
        .command('rescore')
        .description(
          "score a finished run's stored outputs with other scorers, calling no target: a new run (its sourceRunId is the run)",
        )
        .argument('<run>', 'run id')
        .requiredOption('-s, --scorer <id>', 'scorer to apply; repeat for several (`assay scorers list`)', collect)
        .option('--pass-threshold <x>', "score that passes, 0–1 (default: the run's)", fractionArg('--pass-threshold'))
        .option('--name <name>', 'a name for the new run (default: rescore of <run>)')
        .addOption(
          new Option(
            '--cache <mode>',
            "the scorers' model-call cache (an llm-judge's): readwrite (default), read, write, or off to ask every judge again",
          ).choices(['off', 'read', 'write', 'readwrite']),
        )
        .option('-w, --watch', 'follow it to the end (always, in local mode: this process executes it)')
        .addOption(interruptOption()),
    ),
  ).action(
    withSession(
      true,
      async (
        session,
        runId: string,
        opts: RunRefOptions & {
          scorer: string[];
          passThreshold?: number;
          name?: string;
          cache?: RescoreRunInput['cache'];
          watch?: boolean;
          onInterrupt: InterruptAction;
        },
      ) => {
        const run = await findRun(session.client, runId, opts.dataset);
        const r = await session.client.rescore(run.datasetId, run.id, {
          scorerIds: opts.scorer,
          passThreshold: opts.passThreshold,
          name: opts.name,
          cache: opts.cache,
        });
        note(`run ${r.id} re-scores run ${run.id} with ${r.scorerIds.join(', ')} (no target is called)`);
        if (!opts.watch && !session.local) {
          if (opts.json) printJson(r);
          else console.log(r.id);
          return EXIT.OK;
        }
        return follow(session, run.datasetId, r.id, { ...opts, bar: Boolean(opts.watch) });
      },
    ),
  );

  const effect = (name: string) => (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0`);
    return n;
  };
  connectionOptions(
    datasetOption(
      runs
        .command('compare')
        .description(
          'compare two runs item by item: per scorer the change with its 95% interval, p-value and verdict; exit 1 when a deciding scorer regressed significantly',
        )
        .argument('<baseline>', 'the reference run id (A)')
        .argument('<candidate>', 'the run to judge (B)')
        .option('--limit <n>', 'regressed / improved items to list', intArg('--limit', 0, 10_000), 10)
        .option(
          '--decide <scorer>',
          'a scorer that decides the verdict; repeatable (default: all but latency and cost scorers)',
          collect,
        )
        .option(
          '--alpha <p>',
          'significance level (default 0.05, Holm-corrected across the deciding scorers)',
          parseAlpha,
        )
        .option(
          '--min-effect <x>',
          "smallest change of a scorer's mean that counts, however significant (default 0)",
          effect('--min-effect'),
        )
        .option(
          '--max-regression <x>',
          'the same as --min-effect (kept for older scripts)',
          effect('--max-regression'),
        ),
    ),
  ).action(
    withSession(
      false,
      async (
        { client },
        a: string,
        b: string,
        opts: RunRefOptions & {
          limit: number;
          decide?: string[];
          alpha?: number;
          minEffect?: number;
          maxRegression?: number;
        },
      ) => {
        const [ra, rb] = await Promise.all([findRun(client, a, opts.dataset), findRun(client, b, opts.dataset)]);
        if (ra.datasetId !== rb.datasetId) {
          throw usage(
            `runs ${ra.id} and ${rb.id} are of two datasets (${ra.datasetId}, ${rb.datasetId}); compare two runs of one dataset`,
          );
        }
        // The server's comparison (the one the UI shows).
        const c = await client.compareRuns(
          { datasetId: ra.datasetId, runId: ra.id },
          { datasetId: rb.datasetId, runId: rb.id },
          {
            maxItems: Math.max(opts.limit, opts.json ? 100 : 0),
            scorerIds: opts.decide,
            alpha: opts.alpha,
            minEffect: opts.minEffect ?? opts.maxRegression,
          },
        );
        const failed = c.verdict === 'regressed';
        if (opts.json) printJson({ ...c, regressed: failed });
        else {
          console.log(comparisonText(c, opts.limit));
          const regressed = c.scorers.filter((s) => s.deciding && s.verdict === 'regressed').map((s) => s.scorerId);
          console.log(
            failed
              ? pc.red(`FAIL: significant regression of ${regressed.join(', ')} (alpha ${c.alpha})`)
              : pc.green(
                  `PASS: no deciding scorer (${c.decidingScorerIds.join(', ') || 'none'}) regressed significantly`,
                ),
          );
        }
        return failed ? EXIT.GATE_FAILED : EXIT.OK;
      },
    ),
  );

  usageExits(runs);
}
