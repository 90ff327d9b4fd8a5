import { type AssayClient, isTruncated, type Run } from '@assay/client';
import { pc, table } from './output.js';
import type { Session } from './session.js';

/** Failed items a summary lists (the rest are counted, with the command that lists them all). */
export const FAILED_ITEMS_SHOWN = 10;

/** A failed item as a summary and the JSON report show it. */
export interface FailedItem {
  itemId: string;
  externalId: string | null;
  repetition: number;
  error: { code: string; message: string } | null;
}

const oneLine = (s: string, max = 160) => {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

/** The first `limit` failed items of a run (one page, whatever the run's size), and how many failed. */
export async function failedItems(
  client: AssayClient,
  run: Run,
  limit = FAILED_ITEMS_SHOWN,
): Promise<{ items: FailedItem[]; total: number }> {
  const failed = run.summary?.failed ?? run.failedCount;
  if (!failed || limit <= 0) return { items: [], total: failed };
  const page = await client.listRunResults(run.datasetId, run.id, { status: 'failed', perPage: limit });
  return {
    total: page.pagination.total,
    items: page.results.map((r) => ({
      itemId: r.itemId,
      externalId: r.externalId,
      repetition: r.repetition,
      error: r.error && {
        code: r.error.code,
        message: isTruncated(r.error.message) ? `${r.error.message.preview}…` : r.error.message,
      },
    })),
  };
}

/** The failed items as a table under the summary: item (its external id if it has one), error. */
export function failedItemsText(run: Run, failed: { items: FailedItem[]; total: number }): string {
  if (!failed.items.length) return '';
  const reps = run.options.repetitions > 1;
  const lines = [
    pc.red(
      `failed items${failed.total > failed.items.length ? ` (first ${failed.items.length} of ${failed.total})` : ''}:`,
    ),
    table(
      ['item', 'error'],
      failed.items.map((f) => [
        `${f.externalId ?? f.itemId}${reps ? ` #${f.repetition}` : ''}`,
        f.error ? oneLine(`${f.error.code}: ${f.error.message}`) : '–',
      ]),
    ),
  ];
  if (failed.total > failed.items.length)
    lines.push(pc.dim(`all of them: assay runs show ${run.id} --results --status failed`));
  return lines.join('\n');
}

/**
 * The run's page in the UI (`/datasets/:id/runs/:runId`): on the server the CLI talks to, or,
 * for a local data directory, where `assay serve` shows it.
 */
export function runPageText(session: Session, run: Run): string {
  const path = `/datasets/${encodeURIComponent(run.datasetId)}/runs/${encodeURIComponent(run.id)}`;
  if (!session.local) return `run page: ${session.where}${path}`;
  return `run page: ${pc.dim(`assay serve --data-dir ${session.where}, then`)} http://127.0.0.1:4141${path}`;
}
