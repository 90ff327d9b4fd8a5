import { type Dataset, type DatasetItem, type Page, type PageQuery, RUN_DEFAULTS, type Run } from '@assay/core';
import { type Selectable, sql } from 'kysely';
import type { DatasetItemsTable, DatasetsTable, RunsTable } from '../db-types.js';

/** Row ↔ domain mapping shared by the SQL modules. JSON columns hold `JSON.stringify` text. */

export const enc = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));
/** A SQL number (or a driver's bigint/string), null kept. */
export const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
export const dec = <T = unknown>(v: string | null): T => (v === null || v === undefined ? null : JSON.parse(v)) as T;

export function pageOf<T>(rows: T[], total: number, q: PageQuery): Page<T> {
  return { rows, pagination: { total, page: q.page, perPage: q.perPage, hasMore: (q.page + 1) * q.perPage < total } };
}

/** Rows visible at version `v`: appeared at or before it and not yet replaced or deleted. */
export const visibleAt = (v: number) => sql<boolean>`valid_from <= ${v} and (valid_to is null or valid_to > ${v})`;

export function toDataset(r: Selectable<DatasetsTable>): Dataset {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    metadata: dec(r.metadata),
    inputSchema: dec(r.input_schema),
    groundTruthSchema: dec(r.ground_truth_schema),
    scorerIds: dec(r.scorer_ids),
    version: Number(r.version),
    itemCount: Number(r.item_count),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toItem(r: Selectable<DatasetItemsTable>): DatasetItem {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    externalId: r.external_id,
    input: dec(r.input),
    groundTruth: dec(r.ground_truth),
    metadata: dec(r.metadata),
    version: Number(r.valid_from),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toRun(r: Selectable<RunsTable>): Run {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    datasetVersion: Number(r.dataset_version),
    name: r.name,
    targetType: r.target_type,
    targetId: r.target_id,
    scorerIds: dec(r.scorer_ids),
    options: { ...RUN_DEFAULTS, ...dec<object>(r.options) },
    metadata: dec(r.metadata),
    status: r.status as Run['status'],
    totalItems: Number(r.total_items),
    succeededCount: Number(r.succeeded_count),
    failedCount: Number(r.failed_count),
    skippedCount: Number(r.skipped_count),
    summary: dec(r.summary),
    error: r.error,
    plannedAt: r.planned_at,
    cancelRequestedAt: r.cancel_requested_at,
    sourceRunId: r.source_run_id ?? null,
    createdAt: r.created_at,
    startedAt: r.started_at,
    completedAt: r.completed_at,
  };
}
