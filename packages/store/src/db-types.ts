import type { Generated } from 'kysely';

/** Table shapes as Kysely sees them. JSON columns hold text (JSON.stringify) in every dialect. */
export interface DatasetsTable {
  id: string;
  name: string;
  description: string | null;
  metadata: string | null;
  input_schema: string | null;
  ground_truth_schema: string | null;
  scorer_ids: string | null;
  version: number;
  item_count: number;
  created_at: string;
  updated_at: string;
}

export interface DatasetVersionsTable {
  dataset_id: string;
  version: number;
  added: number;
  updated: number;
  deleted: number;
  created_at: string;
}

export interface DatasetItemsTable {
  row_id: Generated<number>;
  id: string;
  dataset_id: string;
  external_id: string | null;
  input: string;
  ground_truth: string | null;
  metadata: string | null;
  valid_from: number;
  valid_to: number | null;
  created_at: string;
  updated_at: string;
}

export interface RunsTable {
  id: string;
  dataset_id: string;
  dataset_version: number;
  name: string | null;
  target_type: string;
  target_id: string;
  scorer_ids: string;
  options: string;
  metadata: string | null;
  status: string;
  total_items: number;
  succeeded_count: number;
  failed_count: number;
  skipped_count: number;
  summary: string | null;
  error: string | null;
  fence: number;
  idempotency_key: string | null;
  planned_at: string | null;
  cancel_requested_at: string | null;
  idempotency_hash: string | null;
  source_run_id: string | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  updated_at: string;
}

export interface RunItemsTable {
  run_id: string;
  item_id: string;
  repetition: number;
  item_row_id: number;
  status: string;
  attempt: number;
  output: string | null;
  error: string | null;
  latency_ms: number | null;
  usage: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  started_at: string | null;
  completed_at: string | null;
  claim_token: Generated<number>;
  lease_until: number | null;
  worker_id: string | null;
  lost_claims: Generated<number>;
  started_claim: number | null;
  /** The run whose cached output this result is; null when its target was called. */
  cached_from: string | null;
  /** What the target reported with `ctx.reportTrace` (JSON); null when nothing. */
  trace: string | null;
}

export interface TargetCacheTable {
  key: string;
  target_id: string;
  output: string;
  latency_ms: number | null;
  usage: string | null;
  cost_usd: number | null;
  bytes: number;
  run_id: string;
  item_id: string;
  repetition: number;
  created_at: string;
  /** `output` (a target's output) or `model-call` (a built-in's model call; `target_id` is its target or scorer). */
  kind: Generated<string>;
}

/** Scorers' model calls of a run, made and answered from the cache, per worker (summed by the summary). */
export interface RunModelCallsTable {
  run_id: string;
  worker_id: string;
  made: number;
  reused: number;
  cost_spent_usd: number;
  cost_saved_usd: number;
}

export interface RunItemAttemptsTable {
  run_id: string;
  item_id: string;
  repetition: number;
  attempt: number;
  status: string;
  output: string | null;
  error: string | null;
  latency_ms: number | null;
  scores: string | null;
  usage: string | null;
  started_at: string | null;
  completed_at: string | null;
  archived_at: string;
}

export interface ScoresTable {
  run_id: string;
  item_id: string;
  repetition: number;
  scorer_id: string;
  score: number | null;
  reason: string | null;
  error: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
}

export interface DB {
  datasets: DatasetsTable;
  dataset_versions: DatasetVersionsTable;
  dataset_items: DatasetItemsTable;
  runs: RunsTable;
  run_items: RunItemsTable;
  run_item_attempts: RunItemAttemptsTable;
  scores: ScoresTable;
  target_cache: TargetCacheTable;
  run_model_calls: RunModelCallsTable;
}
