import { randomUUID } from 'node:crypto';
import type { AssayClient, Dataset, Run, RunComparison, ScorerStats, TriggerRunInput } from '@assay/client';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { comparisonText } from './comparison.js';
import { intArg, jsonArg } from './datasets.js';
import { EXIT, usage, usageExits } from './exit.js';
import { failedItems, failedItemsText, runPageText } from './failures.js';
import {
  evaluateGates,
  type FailUnder,
  type GateResult,
  gatesText,
  type MaxFailed,
  parseAlpha,
  parseFailUnder,
  parseMaxFailed,
  parseReport,
} from './gates.js';
import { note, pc, printJson, summaryText } from './output.js';
import { writeJsonReport, writeJunit } from './reports.js';
import { findRun, latestCompletedRun, resolveDataset } from './resolve.js';
import { type ConnectionOptions, connectionOptions, type Session, withSession } from './session.js';
import { type InterruptAction, watchRun } from './watch.js';

interface RunOptions extends ConnectionOptions {
  target: string;
  scorer: string[];
  concurrency?: number;
  repetitions?: number;
  itemTimeout?: number;
  scorerTimeout?: number;
  maxRetries?: number;
  name?: string;
  metadata?: Record<string, unknown>;
  datasetVersion?: number;
  idempotencyKey?: string;
  cache?: TriggerRunInput['cache'];
  watch?: boolean;
  failUnder: FailUnder[];
  baseline?: string;
  failOnRegression?: boolean;
  /** The smallest drop of a deciding scorer's mean that counts as a regression (`--min-effect`, `--max-regression`). */
  minEffect?: number;
  maxRegression?: number;
  decide: string[];
  alpha?: number;
  maxFailed?: MaxFailed;
  report: { junit?: string; json?: string };
  onInterrupt: InterruptAction;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];
const fraction = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`${name} must be a number from 0 to 1`);
  return n;
};

/** `--baseline RUN_ID | latest | name:NAME`, resolved before the run is triggered. */
async function resolveBaseline(client: AssayClient, ds: Dataset, ref: string, targetId: string): Promise<Run> {
  if (ref === 'latest') {
    const r = await latestCompletedRun(client, ds.id, (x) => x.targetId === targetId);
    if (!r) throw usage(`--baseline latest: dataset '${ds.name}' has no completed run of target '${targetId}' yet`);
    return r;
  }
  if (ref.startsWith('name:')) {
    const name = ref.slice(5);
    const r = await latestCompletedRun(client, ds.id, (x) => x.name === name);
    if (!r) throw usage(`--baseline ${ref}: dataset '${ds.name}' has no completed run named '${name}'`);
    return r;
  }
  const r = await findRun(client, ref, ds.id).catch(() => findRun(client, ref));
  if (r.status !== 'completed') throw usage(`--baseline ${ref}: that run is ${r.status}, not completed`);
  if (r.datasetId !== ds.id) {
    // The server compares two runs of one dataset, item by item (as the UI does).
    throw usage(
      `--baseline ${ref}: that run is of dataset ${r.datasetId}, not '${ds.name}' (${ds.id}); give a run of this dataset`,
    );
  }
  return r;
}

/**
 * The baseline: `--baseline`, or with `--fail-on-regression` alone the latest completed run of the
 * target (none yet, as on a first CI run: no regression gate, said so).
 */
async function chooseBaseline(client: AssayClient, ds: Dataset, opts: RunOptions): Promise<Run | undefined> {
  if (opts.baseline) return resolveBaseline(client, ds, opts.baseline, opts.target);
  if (!opts.failOnRegression) return undefined;
  const r = await latestCompletedRun(client, ds.id, (x) => x.targetId === opts.target);
  if (!r) note(`--fail-on-regression: no completed run of target '${opts.target}' on '${ds.name}' yet to compare with`);
  return r;
}

/**
 * Gates, comparison, reports and the exit code of a finished run: 3 when it failed or was
 * cancelled, 1 when a gate failed, else 0.
 */
async function conclude(
  session: Session,
  ds: Dataset,
  run: Run,
  baseline: Run | undefined,
  opts: RunOptions,
): Promise<number> {
  const { client } = session;
  let comparison: RunComparison | undefined;
  if (baseline) {
    // The server's comparison (the one the UI shows): paired, per item, with a verdict per scorer.
    comparison = await client.compareRuns(
      { datasetId: baseline.datasetId, runId: baseline.id },
      { datasetId: run.datasetId, runId: run.id },
      { scorerIds: opts.decide, alpha: opts.alpha, minEffect: opts.minEffect ?? opts.maxRegression },
    );
  }
  // The score cards carry the intervals a `:lower` gate needs.
  let stats: ScorerStats[] | undefined;
  if (opts.failUnder.some((g) => g.bound === 'lower')) {
    stats = (await client.scoreStats(run.datasetId, run.id, { bins: 1 })).scorers;
  }
  const gates: GateResult[] = evaluateGates(run, {
    failUnder: opts.failUnder,
    maxFailed: opts.maxFailed,
    comparison,
    stats,
  });
  const failed = await failedItems(client, run);
  const runOk = run.status === 'completed';
  const gatesOk = gates.every((g) => g.passed);
  const exitCode = !runOk ? EXIT.RUN_FAILED : gatesOk ? EXIT.OK : EXIT.GATE_FAILED;
  const passed = exitCode === EXIT.OK;
  if (opts.report.junit) await writeJunit(opts.report.junit, { client, run, dataset: ds, gates, comparison });
  if (opts.report.json)
    await writeJsonReport(opts.report.json, {
      run,
      dataset: ds,
      gates,
      comparison,
      failedItems: failed,
      passed,
      exitCode,
    });
  if (opts.json) {
    printJson({ passed, exitCode, run, gates, comparison: comparison ?? null, failedItems: failed });
  } else {
    console.log(summaryText(run, ds.name));
    const failures = failedItemsText(run, failed);
    if (failures) console.log(failures);
    console.log(runPageText(session, run));
    if (comparison) {
      console.log(`\n${pc.bold('Against baseline')} ${comparison.baseline.id}`);
      console.log(comparisonText(comparison));
    }
    console.log(`\n${pc.bold('Gates')}`);
    console.log(gatesText(gates));
    console.log(
      passed
        ? pc.green('\nPASS')
        : pc.red(`\nFAIL (exit ${exitCode}: ${exitCode === EXIT.RUN_FAILED ? `run ${run.status}` : 'a gate failed'})`),
    );
  }
  for (const [kind, file] of Object.entries(opts.report)) if (file) note(`${kind} report written to ${file}`);
  return exitCode;
}

async function runCommand(session: Session, datasetRef: string, opts: RunOptions): Promise<number> {
  const { client } = session;
  const ds = await resolveDataset(client, datasetRef);
  // Without --scorer the dataset's default scorers apply (the server picks them).
  const explicit = opts.scorer.length > 0;
  const scorers = explicit ? [...new Set(opts.scorer)] : (ds.scorerIds ?? []);
  for (const g of opts.failUnder) {
    if (!scorers.includes(g.scorerId)) {
      throw usage(
        `--fail-under ${g.scorerId}=${g.threshold}: the run has no scorer '${g.scorerId}' (${scorers.length ? `it has ${scorers.join(', ')}` : 'it has none'}); add --scorer ${g.scorerId}`,
      );
    }
  }
  for (const id of opts.decide) {
    if (!scorers.includes(id)) {
      throw usage(
        `--decide ${id}: the run has no scorer '${id}' (${scorers.length ? `it has ${scorers.join(', ')}` : 'it has none'})`,
      );
    }
  }
  const baseline = await chooseBaseline(client, ds, opts);
  const input: TriggerRunInput = {
    targetId: opts.target,
    scorerIds: explicit ? scorers : undefined,
    maxConcurrency: opts.concurrency,
    repetitions: opts.repetitions,
    itemTimeoutMs: opts.itemTimeout,
    scorerTimeoutMs: opts.scorerTimeout,
    maxRetries: opts.maxRetries,
    name: opts.name,
    metadata: opts.metadata,
    version: opts.datasetVersion,
    cache: opts.cache,
  };
  // A key makes the trigger safe to retry on a flaky network: never two runs for one command.
  const run = await client.triggerRun(ds.id, input, { idempotencyKey: opts.idempotencyKey ?? randomUUID() });
  const wait = Boolean(
    opts.watch ||
      opts.failUnder.length ||
      opts.baseline ||
      opts.failOnRegression ||
      opts.maxFailed !== undefined ||
      opts.report.junit ||
      opts.report.json ||
      session.local,
  );
  if (!wait) {
    if (opts.json) printJson(run);
    else {
      console.log(run.id);
      note(
        `run ${run.id} ${run.status} on dataset '${ds.name}' v${run.datasetVersion} (${run.totalItems} items) · follow it: assay runs watch ${run.id}`,
      );
    }
    return EXIT.OK;
  }
  note(
    `run ${run.id} on dataset '${ds.name}' v${run.datasetVersion} · target ${run.targetId}` +
      (scorers.length ? ` · scorers ${scorers.join(', ')}` : '') +
      (baseline ? ` · baseline ${baseline.id}` : '') +
      (session.local ? ` · local (${session.where})` : ` · ${session.where}`),
  );
  const outcome = await watchRun(client, ds.id, run.id, {
    bar: Boolean(opts.watch),
    onInterrupt: opts.onInterrupt,
    local: session.local,
  });
  if (outcome.detached) return EXIT.INTERRUPTED;
  return conclude(session, ds, outcome.run, baseline, opts);
}

/** `assay run DATASET --target ID …`: trigger a run, optionally watch it and gate CI on it. */
export function registerRunCommand(program: Command): void {
  const run = connectionOptions(
    program
      .command('run')
      .description(
        'run a dataset through a target; with --watch show live progress and a summary; gate CI with --fail-under / --baseline (exit 0 pass, 1 gate failed, 2 usage or API error, 3 run failed or cancelled)',
      )
      .argument('<dataset>', 'dataset id or name')
      .requiredOption('-t, --target <id>', 'target to run (`assay targets list`)')
      .option(
        '-s, --scorer <id>',
        "scorer to apply; repeat for several (`assay scorers list`); default: the dataset's default scorers",
        collect,
      )
      .option('-c, --concurrency <n>', 'items in flight at once (default 10)', intArg('--concurrency', 1, 1000))
      .option('-r, --repetitions <n>', 'run every item this many times (default 1)', intArg('--repetitions', 1, 100))
      .option('--item-timeout <ms>', 'per-item target timeout (default 60000)', intArg('--item-timeout', 1, 3_600_000))
      .option(
        '--scorer-timeout <ms>',
        'time each scorer may take per item (default 30000)',
        intArg('--scorer-timeout', 1, 3_600_000),
      )
      .option('--max-retries <n>', 'retries of a retryable target error (default 2)', intArg('--max-retries', 0, 20))
      .option('--name <name>', 'a name for the run (e.g. the branch), usable as --baseline name:NAME')
      .option('--metadata <json>', 'a JSON object stored with the run (commit, PR, …)', jsonArg('--metadata'))
      .option(
        '--dataset-version <n>',
        'run the dataset as it was at this version (default: latest)',
        intArg('--dataset-version', 0),
      )
      .option('--idempotency-key <key>', 'same key + same options returns the existing run instead of a new one')
      .addOption(
        new Option(
          '--cache <mode>',
          "reuse stored target outputs (read), store new ones (write), or both (readwrite); default: the target's config, else off",
        ).choices(['off', 'read', 'write', 'readwrite']),
      )
      .option('-w, --watch', 'show a live progress bar until the run ends, then the summary')
      .option(
        '--fail-under <scorer=threshold[:lower]>',
        "exit 1 when the scorer's mean (with :lower, the lower bound of its 95% confidence interval) is below the threshold; repeatable (implies waiting)",
        parseFailUnder,
      )
      .option(
        '--baseline <run>',
        'compare with this run (id, `latest` completed run of the target, or `name:NAME`); exit 1 on a significant regression',
      )
      .option(
        '--fail-on-regression',
        'exit 1 when a deciding scorer regressed significantly against --baseline (default baseline: the latest completed run of the target)',
      )
      .option(
        '--decide <scorer>',
        'a scorer that decides the regression verdict; repeatable (default: all but latency and cost scorers)',
        collect,
      )
      .option(
        '--alpha <p>',
        'significance level of a regression (default 0.05, Holm-corrected across scorers)',
        parseAlpha,
      )
      .option(
        '--min-effect <x>',
        "smallest drop of a scorer's mean that counts as a regression, however significant (default 0)",
        fraction('--min-effect'),
      )
      .option('--max-regression <x>', 'the same as --min-effect (kept for older scripts)', fraction('--max-regression'))
      .option(
        '--max-failed <n|p%>',
        'failed items (target errors) that still pass: a number or a share of the results (default 0: any failed item fails)',
        parseMaxFailed,
      )
      .option('--report <kind=file>', 'write a report: junit=FILE (JUnit XML) or json=FILE; repeatable', parseReport)
      .addOption(
        new Option('--on-interrupt <action>', 'what Ctrl-C does while waiting (ask needs a terminal; else detach)')
          .choices(['ask', 'cancel', 'detach'])
          .default('ask'),
      ),
  );
  run.action(
    withSession(true, (session, dataset: string, opts: Partial<RunOptions>) =>
      runCommand(session, dataset, {
        ...opts,
        scorer: opts.scorer ?? [],
        decide: opts.decide ?? [],
        failUnder: opts.failUnder ?? [],
        report: opts.report ?? {},
      } as RunOptions),
    ),
  );
  usageExits(run);
}
