import Papa from 'papaparse';
import { formatCell } from './csv.js';

/** An item as the API returns it (only the fields an export writes). */
export interface ExportableItem {
  id?: string;
  externalId?: string | null;
  input: unknown;
  groundTruth?: unknown;
  metadata?: Record<string, unknown> | null;
}

export interface ExportOptions {
  /**
   * Also write the item's `id` (the UI's export does, to match items with run results). Import
   * ignores an `id` column or key: imported items get new ids. Default false.
   */
  id?: boolean;
}

/** The CSV columns of an export, in order. */
export function exportColumns(opts: ExportOptions = {}): string[] {
  return [...(opts.id ? ['id'] : []), 'externalId', 'input', 'groundTruth', 'metadata'];
}

/** An item in the importable shape; null or absent fields are left out. */
export function exportRecord(it: ExportableItem, opts: ExportOptions = {}): Record<string, unknown> {
  return {
    ...(opts.id && it.id ? { id: it.id } : {}),
    ...(it.externalId ? { externalId: it.externalId } : {}),
    input: it.input,
    ...(it.groundTruth !== null && it.groundTruth !== undefined ? { groundTruth: it.groundTruth } : {}),
    ...(it.metadata ? { metadata: it.metadata } : {}),
  };
}

/** One JSONL line (with its `\n`). */
export function jsonlLine(it: ExportableItem, opts: ExportOptions = {}): string {
  return `${JSON.stringify(exportRecord(it, opts))}\n`;
}

const unparse = (cells: string[]) => `${Papa.unparse([cells], { header: false, newline: '\n' })}\n`;

/** The CSV header line (with its `\n`). */
export function csvHeader(opts: ExportOptions = {}): string {
  return unparse(exportColumns(opts));
}

/**
 * One CSV record (with its `\n`): whole `input`, `groundTruth` and `metadata` columns, each cell
 * written so that import reads it back as the same value (`formatCell`).
 */
export function csvLine(it: ExportableItem, opts: ExportOptions = {}): string {
  return unparse([
    ...(opts.id ? [it.id ?? ''] : []),
    it.externalId ?? '',
    formatCell(it.input),
    formatCell(it.groundTruth),
    formatCell(it.metadata),
  ]);
}

/**
 * An export file part by part: the header (CSV), then one line per item, read as they come (the
 * CLI writes each to its output; the UI collects them into a Blob).
 *
 * @example
 * for await (const part of exportFile(client.iterateItems(dsId), 'csv')) out.write(part);
 */
export async function* exportFile(
  items: AsyncIterable<ExportableItem> | Iterable<ExportableItem>,
  format: 'csv' | 'jsonl',
  opts: ExportOptions = {},
): AsyncGenerator<string> {
  if (format === 'csv') yield csvHeader(opts);
  for await (const it of items) yield format === 'csv' ? csvLine(it, opts) : jsonlLine(it, opts);
}
