import type { Migration } from 'kysely';
import { statements } from '../statements.js';

/**
 * Numbered SQLite migrations. Never edit one that has been released: add the next number.
 * All pending ones run in one IMMEDIATE transaction (`sqliteAdapter.withMigrationLock`).
 */
export const sqliteMigrations: Record<string, Migration> = {
  '0001_init': statements(
    `CREATE TABLE datasets (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      description TEXT,
      metadata TEXT,
      input_schema TEXT,
      ground_truth_schema TEXT,
      version INTEGER NOT NULL DEFAULT 0,
      item_count INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`,
    `CREATE TABLE dataset_versions (
      dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      version INTEGER NOT NULL,
      added INTEGER NOT NULL DEFAULT 0,
      updated INTEGER NOT NULL DEFAULT 0,
      deleted INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      PRIMARY KEY (dataset_id, version)
    )`,
    `CREATE TABLE dataset_items (
      row_id INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL,
      dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      external_id TEXT,
      input TEXT NOT NULL,
      ground_truth TEXT,
      metadata TEXT,
      valid_from INTEGER NOT NULL,
      valid_to INTEGER,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`,
    'CREATE INDEX dataset_items_by_id ON dataset_items (dataset_id, id, valid_from)',
    'CREATE UNIQUE INDEX dataset_items_current ON dataset_items (dataset_id, id) WHERE valid_to IS NULL',
    `CREATE UNIQUE INDEX dataset_items_external ON dataset_items (dataset_id, external_id)
      WHERE valid_to IS NULL AND external_id IS NOT NULL`,
    `CREATE TABLE runs (
      id TEXT PRIMARY KEY,
      dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      dataset_version INTEGER NOT NULL,
      name TEXT,
      target_type TEXT NOT NULL,
      target_id TEXT NOT NULL,
      scorer_ids TEXT NOT NULL,
      options TEXT NOT NULL,
      metadata TEXT,
      status TEXT NOT NULL,
      total_items INTEGER NOT NULL DEFAULT 0,
      succeeded_count INTEGER NOT NULL DEFAULT 0,
      failed_count INTEGER NOT NULL DEFAULT 0,
      skipped_count INTEGER NOT NULL DEFAULT 0,
      summary TEXT,
      error TEXT,
      fence INTEGER NOT NULL DEFAULT 0,
      idempotency_key TEXT UNIQUE,
      planned_at TEXT,
      created_at TEXT NOT NULL,
      started_at TEXT,
      completed_at TEXT,
      updated_at TEXT NOT NULL
    )`,
    'CREATE INDEX runs_by_dataset ON runs (dataset_id, id)',
    'CREATE INDEX runs_by_status ON runs (dataset_id, status)',
    `CREATE TABLE run_items (
      run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      item_id TEXT NOT NULL,
      repetition INTEGER NOT NULL,
      item_row_id INTEGER NOT NULL,
      status TEXT NOT NULL,
      attempt INTEGER NOT NULL DEFAULT 0,
      output TEXT,
      error TEXT,
      latency_ms REAL,
      usage TEXT,
      started_at TEXT,
      completed_at TEXT,
      PRIMARY KEY (run_id, item_id, repetition)
    ) WITHOUT ROWID`,
    'CREATE INDEX run_items_by_status ON run_items (run_id, status)',
    `CREATE TABLE scores (
      run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      item_id TEXT NOT NULL,
      repetition INTEGER NOT NULL,
      scorer_id TEXT NOT NULL,
      score REAL,
      reason TEXT,
      error TEXT,
      PRIMARY KEY (run_id, item_id, repetition, scorer_id)
    ) WITHOUT ROWID`,
  ),
  '0002_cancel_retry_idempotency': statements(
    'ALTER TABLE runs ADD COLUMN cancel_requested_at TEXT',
    'ALTER TABLE runs ADD COLUMN idempotency_hash TEXT',
    `CREATE TABLE run_item_attempts (
      run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      item_id TEXT NOT NULL,
      repetition INTEGER NOT NULL,
      attempt INTEGER NOT NULL,
      status TEXT NOT NULL,
      output TEXT,
      error TEXT,
      latency_ms REAL,
      scores TEXT,
      started_at TEXT,
      completed_at TEXT,
      archived_at TEXT NOT NULL,
      PRIMARY KEY (run_id, item_id, repetition, attempt)
    ) WITHOUT ROWID`,
  ),
  // Items are claimed by workers (so several can share a run): a lease, a fencing token per
  // item, and the worker that holds or produced it.
  '0003_item_claims': statements(
    'ALTER TABLE run_items ADD COLUMN claim_token INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE run_items ADD COLUMN lease_until INTEGER',
    'ALTER TABLE run_items ADD COLUMN worker_id TEXT',
    'DROP INDEX run_items_by_status',
    'CREATE INDEX run_items_claim ON run_items (run_id, status, item_id, repetition)',
    'CREATE INDEX runs_active ON runs (status)',
  ),
  // Usage per result (numeric, so the summary sums it in SQL), on archived attempts as JSON, and
  // the scorers a dataset's runs use by default.
  '0004_usage_default_scorers': statements(
    'ALTER TABLE run_items ADD COLUMN input_tokens INTEGER',
    'ALTER TABLE run_items ADD COLUMN output_tokens INTEGER',
    'ALTER TABLE run_items ADD COLUMN cost_usd REAL',
    'ALTER TABLE run_item_attempts ADD COLUMN usage TEXT',
    'ALTER TABLE datasets ADD COLUMN scorer_ids TEXT',
  ),
  // Claims lost without an outcome (a crash, kill -9, an expired lease) and the claim under which
  // a suspect item was last started: an item that keeps taking its worker down is failed, not run forever.
  '0005_lost_claims': statements(
    'ALTER TABLE run_items ADD COLUMN lost_claims INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE run_items ADD COLUMN started_claim INTEGER',
  ),
  // Latency percentiles of a run's summary read this index in order instead of sorting every row
  // (a 1,000,000-item run's p50 took 0.74 s of blocked event loop on SQLite).
  '0006_latency_index': statements('CREATE INDEX run_items_latency ON run_items (run_id, latency_ms)'),
  // The target output cache: an output by the hash of what produced it (target, fingerprint, input,
  // repetition), written with its result in one transaction; results taken from it name their source run.
  '0007_target_cache': statements(
    `CREATE TABLE target_cache (
      key TEXT PRIMARY KEY,
      target_id TEXT NOT NULL,
      output TEXT NOT NULL,
      latency_ms REAL,
      usage TEXT,
      cost_usd REAL,
      bytes INTEGER NOT NULL,
      run_id TEXT NOT NULL,
      item_id TEXT NOT NULL,
      repetition INTEGER NOT NULL,
      created_at TEXT NOT NULL
    ) WITHOUT ROWID`,
    'CREATE INDEX target_cache_by_target ON target_cache (target_id, created_at)',
    'CREATE INDEX target_cache_by_age ON target_cache (created_at)',
    'CREATE INDEX target_cache_by_run ON target_cache (run_id)',
    'ALTER TABLE run_items ADD COLUMN cached_from TEXT',
    // A re-score scores the stored outputs of this run instead of calling its target.
    'ALTER TABLE runs ADD COLUMN source_run_id TEXT',
  ),
  // The model-call cache (a model target's generations, an llm-judge's verdicts) in the same
  // table, as entries of kind 'model-call'; each run's scorer calls made and reused, with their
  // cost, counted with its outcomes (one row per worker, so workers never wait on each other);
  // and the age index carries each entry's size, so the size limit sums it without reading outputs.
  '0008_model_call_cache': statements(
    "ALTER TABLE target_cache ADD COLUMN kind TEXT NOT NULL DEFAULT 'output'",
    'DROP INDEX target_cache_by_age',
    'CREATE INDEX target_cache_by_age_size ON target_cache (created_at, bytes)',
    `CREATE TABLE run_model_calls (
      run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      worker_id TEXT NOT NULL,
      made INTEGER NOT NULL,
      reused INTEGER NOT NULL,
      cost_spent_usd REAL NOT NULL,
      cost_saved_usd REAL NOT NULL,
      PRIMARY KEY (run_id, worker_id)
    ) WITHOUT ROWID`,
  ),
  // What a scorer that calls a model (a judge) reported spending, per score.
  '0009_score_usage': statements(
    'ALTER TABLE scores ADD COLUMN input_tokens INTEGER',
    'ALTER TABLE scores ADD COLUMN output_tokens INTEGER',
    'ALTER TABLE scores ADD COLUMN cost_usd REAL',
  ),
  // What a target reported beside its output (ctx.reportTrace: an agent's trace id and tool calls).
  '0010_result_trace': statements('ALTER TABLE run_items ADD COLUMN trace TEXT'),
};
