/** The bench report: the rows of each workload (median, every run, target, met), the table, the ratios. */
import { execFileSync } from 'node:child_process';
import { availableParallelism, totalmem } from 'node:os';
import { fmt, type Metrics, median, ROOT, type Row, type RowOf } from './lib.js';

/** The report's rows for one workload: its own (`rows`) then the machine context every run records. */
export function rowsOf(id: string, runs: Metrics[], rows: (row: RowOf) => Row[]): Row[] {
  const all = (key: string, digits: number) => runs.map((r) => fmt(r[key], digits)).join(' / ');
  const row: RowOf = (metric, key, digits, target = '', ok) => {
    const m = median(runs.map((r) => r[key]));
    return {
      workload: id,
      metric,
      median: fmt(m, digits),
      runs: all(key, digits),
      target,
      met: ok ? (ok(m) ? 'yes' : '**no**') : '',
    };
  };
  // Context for every workload: how busy the machine and its disk were.
  const context = [
    row('machine: 1-min load average before the run', 'loadBefore', 2),
    row('machine: SQLite FULL commit (fsync) p50 before the run (ms)', 'commitP50Ms', 2),
  ];
  return [...rows(row), ...context];
}

/** Node, CPUs, RAM and the commit measured (with any uncommitted change under packages/). */
export function environment(): string[] {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
    } catch {
      return '?';
    }
  };
  const dirty = git('status', '--porcelain', '--', 'packages');
  return [
    `node ${process.version}, ${availableParallelism()} CPUs, ${fmt(totalmem() / 1024 ** 3, 1)} GiB RAM`,
    `git ${git('rev-parse', '--short', 'HEAD')}${dirty && dirty !== '?' ? ` + uncommitted changes in packages/:\n${dirty.replace(/^/gm, '    ')}` : ''}`,
  ];
}

/** Prints the Markdown table docs/benchmarks.md quotes. */
export function printTable(rows: Row[], iterations: number): void {
  const header = ['workload', 'metric', 'median', `runs (${iterations})`, 'target', 'met'];
  console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${[r.workload, r.metric, r.median, r.runs, r.target, r.met].join(' | ')} |`);
}

/** Prints `a / b` of one metric of two workloads that both ran (median ratio and per run pair). */
export function printRatio(what: string, a: Metrics[] | undefined, b: Metrics[] | undefined, key: string): void {
  if (!a || !b) return;
  const per = a.map((r, i) => fmt(r[key] / b[i][key], 2)).join(' / ');
  const ratio = median(a.map((r) => r[key])) / median(b.map((r) => r[key]));
  console.log(`${what}: ${fmt(ratio, 2)} (ratio of medians; per run pair ${per})`);
}
