import type { Run, RunSummary } from '@assay/client';
import Table from 'cli-table3';
import pc from 'picocolors';

export { pc };

/** Machine output: JSON on stdout, nothing else there. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Human notes go to stderr, so stdout stays clean for data (an export, `--json`). */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** A readable table: light borders, header in bold, columns aligned. */
export function table(head: string[], rows: (string | number)[][], align?: ('left' | 'right')[]): string {
  const t = new Table({
    head: head.some(Boolean) ? head.map((h) => pc.bold(h)) : [],
    style: { head: [], border: [], compact: true, 'padding-left': 1, 'padding-right': 1 },
    ...(align ? { colAligns: align } : {}),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: ' ',
    },
  });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

export const score = (n: number | null | undefined) => (n === null || n === undefined ? '–' : n.toFixed(3));
export const pct = (n: number | null | undefined) => (n === null || n === undefined ? '–' : `${(n * 100).toFixed(1)}%`);
export const ms = (n: number | null | undefined) =>
  n === null || n === undefined ? '–' : n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
export const signed = (n: number | null) =>
  n === null ? '–' : `${n > 0 ? '+' : n < 0 ? '−' : '±'}${Math.abs(n).toFixed(3)}`;

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function statusColor(status: string): string {
  if (status === 'completed' || status === 'succeeded') return pc.green(status);
  if (status === 'failed') return pc.red(status);
  if (status === 'cancelled' || status === 'skipped') return pc.yellow(status);
  return pc.cyan(status);
}

export function runDuration(run: Run): string {
  if (!run.startedAt) return '–';
  const end = run.completedAt ? Date.parse(run.completedAt) : Date.now();
  return duration((end - Date.parse(run.startedAt)) / 1000);
}

/** Dollars with enough digits to show sub-cent costs. */
const usd = (v: number | null) => (v === null ? '–' : v >= 1 ? v.toFixed(2) : v.toPrecision(3));

/** The counts line and the per-scorer table of a finished (or running) run. */
export function summaryText(run: Run, datasetName?: string): string {
  const s: RunSummary | null = run.summary;
  const dataset = datasetName ? `'${datasetName}'` : run.datasetId;
  const lines = [
    `${pc.bold('Run')} ${run.id} ${statusColor(run.status)} in ${runDuration(run)} · dataset ${dataset} v${run.datasetVersion} · target ${run.targetId}` +
      (run.options.repetitions > 1 ? ` · ${run.options.repetitions} repetitions` : ''),
  ];
  if (run.error) lines.push(`${pc.red('error')}: ${run.error}`);
  if (run.sourceRunId) lines.push(`re-score of run ${run.sourceRunId}: its stored outputs, no target called`);
  if (run.options.cacheNotice) lines.push(`${pc.yellow('cache')}: ${run.options.cacheNotice}`);
  if (!s) {
    lines.push(`items: ${run.succeededCount + run.failedCount}/${run.totalItems} done, ${run.failedCount} failed`);
    return lines.join('\n');
  }
  lines.push(
    `items: ${s.total} total · ${pc.green(`${s.succeeded} succeeded`)} · ${s.failed ? pc.red(`${s.failed} failed`) : '0 failed'}` +
      ` · ${s.skipped} skipped · ${s.cancelled} cancelled · latency p50 ${ms(s.latencyMs.p50)}, p95 ${ms(s.latencyMs.p95)}` +
      (s.latencyMs.max === undefined ? '' : `, max ${ms(s.latencyMs.max)}`),
  );
  if (s.usage) {
    const u = s.usage;
    lines.push(
      `usage (${u.items} items reported): ${u.inputTokens.toLocaleString('en-US')} input + ${u.outputTokens.toLocaleString('en-US')} output tokens` +
        ` · $${usd(u.costUsd)} total, $${usd(u.meanCostUsd)} per item`,
    );
  }
  if (s.cache) {
    const c = s.cache;
    lines.push(
      `cache (${c.mode}): ${c.hits} hits, ${c.misses} target calls, ${c.stored} stored · $${usd(c.costSpentUsd)} spent, $${usd(c.costSavedUsd)} saved` +
        (c.modelCalls && c.modelCalls.made + c.modelCalls.reused > 0
          ? ` · judge model calls: ${c.modelCalls.made} made, ${c.modelCalls.reused} from the cache`
          : ''),
    );
  }
  if (s.scorers.length) {
    lines.push(
      table(
        ['scorer', 'mean', 'median', `pass rate (≥ ${s.passThreshold ?? 0.5})`, 'scored', 'errors', 'spread (reps)'],
        s.scorers.map((x) => [
          x.scorerId,
          score(x.mean),
          score(x.median ?? null),
          pct(x.passRate),
          x.count,
          x.errors,
          x.repetitions
            ? `σ ${score(x.repetitions.stddev)} [${score(x.repetitions.min)}–${score(x.repetitions.max)}]`
            : '',
        ]),
        ['left', 'right', 'right', 'right', 'right', 'right', 'left'],
      ),
    );
  } else lines.push('no scorers');
  return lines.join('\n');
}
