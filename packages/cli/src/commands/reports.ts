import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import type { AssayClient, Dataset, Run, RunComparison, RunResult } from '@assay/client';
import type { FailedItem } from './failures.js';
import type { GateResult } from './gates.js';

/** Scores below this fail an item's JUnit test case: the line the summary's pass rate uses. */
export const PASS_SCORE = 0.5;

// XML 1.0 allows only these characters; anything else (control bytes in a model's output) is dropped.
const INVALID_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xml(text: string): string {
  return text
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const preview = (value: unknown, max: number) => {
  const s = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

const seconds = (run: Run) =>
  run.startedAt && run.completedAt ? (Date.parse(run.completedAt) - Date.parse(run.startedAt)) / 1000 : 0;

function itemCase(r: RunResult, suite: string): { xml: string; failure: boolean; error: boolean; skipped: boolean } {
  const name = `${r.externalId ?? r.itemId}#${r.repetition} ${preview(r.input, 80)}`;
  const attrs = `classname="${xml(suite)}" name="${xml(name)}" time="${((r.latencyMs ?? 0) / 1000).toFixed(3)}"`;
  const out = [
    `output: ${preview(r.output, 2000)}`,
    ...r.scores.map(
      (s) =>
        `${s.scorerId}: ${s.score ?? 'no score'}${s.reason ? ` (${s.reason})` : ''}${s.error ? ` error: ${s.error}` : ''}`,
    ),
  ].join('\n');
  const body: string[] = [];
  let failure = false;
  let error = false;
  let skipped = false;
  if (r.status === 'failed') {
    error = true;
    body.push(
      `<error message="${xml(r.error?.message ?? 'failed')}" type="${xml(r.error?.code ?? 'TARGET_ERROR')}">${xml(r.error?.message ?? '')}</error>`,
    );
  } else if (r.status !== 'succeeded') {
    skipped = true;
    body.push(`<skipped message="${xml(r.status)}"/>`);
  } else {
    const low = r.scores.filter((s) => s.score === null || s.score < PASS_SCORE);
    if (low.length) {
      failure = true;
      const msg = low.map((s) => `${s.scorerId} ${s.score ?? 'no score'} < ${PASS_SCORE}`).join('; ');
      body.push(`<failure message="${xml(msg)}" type="score">${xml(msg)}</failure>`);
    }
  }
  body.push(`<system-out>${xml(out)}</system-out>`);
  return { xml: `    <testcase ${attrs}>\n      ${body.join('\n      ')}\n    </testcase>\n`, failure, error, skipped };
}

/**
 * The comparison with the baseline as JUnit properties, per scorer: the change, its 95% interval,
 * the p-values (raw and Holm-adjusted) and the verdict; CI servers show them beside the gates.
 */
function comparisonProperties(c: RunComparison | undefined): Record<string, string> {
  if (!c) return {};
  const props: Record<string, string> = {
    baselineRunId: c.baseline.id,
    'baseline.verdict': c.verdict,
    'baseline.decidingScorerIds': c.decidingScorerIds.join(','),
    'baseline.alpha': String(c.alpha),
  };
  const num = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));
  for (const s of c.scorers) {
    const k = `baseline.${s.scorerId}`;
    props[`${k}.delta`] = num(s.delta);
    props[`${k}.ciLower`] = num(s.ci?.lower);
    props[`${k}.ciUpper`] = num(s.ci?.upper);
    props[`${k}.pValue`] = num(s.pValue);
    props[`${k}.pAdjusted`] = num(s.pAdjusted);
    props[`${k}.verdict`] = s.verdict;
    props[`${k}.deciding`] = String(s.deciding);
  }
  return props;
}

/**
 * JUnit XML: one suite of gates (the run's status and each CI gate, their messages with the
 * intervals and p-values they judged) and one suite with a test case per result (error: the
 * target failed; failure: a score below 0.5; skipped: cancelled or skipped). Results are streamed
 * page by page through a temporary file, never held in memory.
 */
export async function writeJunit(
  file: string,
  args: { client: AssayClient; run: Run; dataset: Dataset; gates: GateResult[]; comparison?: RunComparison },
): Promise<void> {
  const { client, run, dataset, gates, comparison } = args;
  const path = resolve(file);
  await mkdir(dirname(path), { recursive: true });
  const itemsTmp = `${path}.items.tmp`;
  const suiteName = `${dataset.name} · ${run.targetId}`;
  const counts = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const body = await open(itemsTmp, 'w');
  try {
    let chunk = '';
    for await (const r of client.iterateRunResults(run.datasetId, run.id)) {
      const c = itemCase(r, `assay.items.${dataset.name}`);
      counts.tests++;
      if (c.failure) counts.failures++;
      if (c.error) counts.errors++;
      if (c.skipped) counts.skipped++;
      chunk += c.xml;
      if (chunk.length > 256 * 1024) {
        await body.write(chunk);
        chunk = '';
      }
    }
    await body.write(chunk);
  } finally {
    await body.close();
  }
  const gateFailures = gates.filter((g) => !g.passed).length;
  const props = {
    runId: run.id,
    datasetId: run.datasetId,
    datasetName: dataset.name,
    datasetVersion: String(run.datasetVersion),
    targetId: run.targetId,
    scorerIds: run.scorerIds.join(','),
    status: run.status,
    ...comparisonProperties(comparison),
  };
  const ts = run.startedAt ?? run.createdAt;
  const gateCases = gates
    .map((g) => {
      const open = `    <testcase classname="assay.gates" name="${xml(g.name)}" time="0">`;
      return g.passed
        ? `${open}\n      <system-out>${xml(g.message)}</system-out>\n    </testcase>\n`
        : `${open}\n      <failure message="${xml(g.message)}" type="${g.gate}">${xml(g.message)}</failure>\n    </testcase>\n`;
    })
    .join('');
  const head =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="assay" tests="${gates.length + counts.tests}" failures="${gateFailures + counts.failures}" errors="${counts.errors}" skipped="${counts.skipped}" time="${seconds(run).toFixed(3)}">\n` +
    `  <testsuite name="${xml(`gates: ${suiteName}`)}" tests="${gates.length}" failures="${gateFailures}" errors="0" skipped="0" time="0" timestamp="${xml(ts)}">\n` +
    `    <properties>\n${Object.entries(props)
      .map(([k, v]) => `      <property name="${xml(k)}" value="${xml(v)}"/>\n`)
      .join('')}    </properties>\n` +
    gateCases +
    '  </testsuite>\n' +
    `  <testsuite name="${xml(`items: ${suiteName}`)}" tests="${counts.tests}" failures="${counts.failures}" errors="${counts.errors}" skipped="${counts.skipped}" time="${seconds(run).toFixed(3)}" timestamp="${xml(ts)}">\n`;
  const tail = '  </testsuite>\n</testsuites>\n';
  try {
    const out = createWriteStream(path);
    out.write(head);
    for await (const chunk of createReadStream(itemsTmp)) {
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end(tail);
    await finished(out);
  } finally {
    await rm(itemsTmp, { force: true });
  }
}

/**
 * The JSON report: the run, its gates (with the intervals and p-values they judged), the baseline
 * comparison (every scorer's change, interval, p-values and verdict), the first failed items and
 * the exit code.
 */
export async function writeJsonReport(
  file: string,
  report: {
    run: Run;
    dataset: Dataset;
    gates: GateResult[];
    comparison?: RunComparison;
    failedItems?: { items: FailedItem[]; total: number };
    passed: boolean;
    exitCode: number;
  },
): Promise<void> {
  const path = resolve(file);
  await mkdir(dirname(path), { recursive: true });
  const { run, dataset, gates, comparison, failedItems, passed, exitCode } = report;
  await writeFile(
    path,
    `${JSON.stringify(
      {
        passed,
        exitCode,
        run,
        dataset: { id: dataset.id, name: dataset.name, version: run.datasetVersion },
        gates,
        failedItems: failedItems ?? null,
        baseline: comparison
          ? {
              runId: comparison.baseline.id,
              verdict: comparison.verdict,
              decidingScorerIds: comparison.decidingScorerIds,
              alpha: comparison.alpha,
              scorers: comparison.scorers,
              items: comparison.items,
              regressions: comparison.regressions,
              improvements: comparison.improvements,
            }
          : null,
      },
      null,
      2,
    )}\n`,
  );
}
