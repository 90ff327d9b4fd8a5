import type { Migration } from 'kysely';
import { statements } from '../statements.js';

/**
 * Numbered PostgreSQL migrations: the same schema and numbers as the SQLite ones, in PostgreSQL
 * types. Never edit one that has been released: add the next number. Kysely's Migrator applies
 * all pending ones in one transaction (PostgreSQL's DDL is transactional), under the advisory
 * lock taken by `postgresAdapter.withMigrationLock`.
 *
 * - JSON values are `text` (JSON.stringify), as in SQLite, so the query code stays shared.
 * - Timestamps are ISO strings in `text`, as in SQLite.
 * - Ids are `COLLATE "C"`: they are ordered and compared for keyset paging, and byte order
 *   matches SQLite's (a database's default collation, e.g. en_US, would sort them differently).
 */
export const postgresMigrations: Record<string, Migration> = {
  '0001_init': statements(
    `CREATE TABLE datasets (
      id text COLLATE "C" PRIMARY KEY,
      name text NOT NULL,
      description text,
      metadata text,
      input_schema text,
      ground_truth_schema text,
      version integer NOT NULL DEFAULT 0,
      item_count integer NOT NULL DEFAULT 0,
      created_at text NOT NULL,
      updated_at text NOT NULL
    )`,
    `CREATE TABLE dataset_versions (
      dataset_id text COLLATE "C" NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      version integer NOT NULL,
      added integer NOT NULL DEFAULT 0,
      updated integer NOT NULL DEFAULT 0,
      deleted integer NOT NULL DEFAULT 0,
      created_at text NOT NULL,
      PRIMARY KEY (dataset_id, version)
    )`,
    `CREATE TABLE dataset_items (
      row_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id text COLLATE "C" NOT NULL,
      dataset_id text COLLATE "C" NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      external_id text,
      input text NOT NULL,
      ground_truth text,
      metadata text,
      valid_from integer NOT NULL,
      valid_to integer,
      created_at text NOT NULL,
      updated_at text NOT NULL
    )`,
    'CREATE INDEX dataset_items_by_id ON dataset_items (dataset_id, id, valid_from)',
    'CREATE UNIQUE INDEX dataset_items_current ON dataset_items (dataset_id, id) WHERE valid_to IS NULL',
    `CREATE UNIQUE INDEX dataset_items_external ON dataset_items (dataset_id, external_id)
      WHERE valid_to IS NULL AND external_id IS NOT NULL`,
    `CREATE TABLE runs (
      id text COLLATE "C" PRIMARY KEY,
      dataset_id text COLLATE "C" NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      dataset_version integer NOT NULL,
      name text,
      target_type text NOT NULL,
      target_id text NOT NULL,
      scorer_ids text NOT NULL,
      options text NOT NULL,
      metadata text,
      status text NOT NULL,
      total_items integer NOT NULL DEFAULT 0,
      succeeded_count integer NOT NULL DEFAULT 0,
      failed_count integer NOT NULL DEFAULT 0,
      skipped_count integer NOT NULL DEFAULT 0,
      summary text,
      error text,
      fence integer NOT NULL DEFAULT 0,
      idempotency_key text UNIQUE,
      planned_at text,
      created_at text NOT NULL,
      started_at text,
      completed_at text,
      updated_at text NOT NULL
    )`,
    'CREATE INDEX runs_by_dataset ON runs (dataset_id, id)',
    'CREATE INDEX runs_by_status ON runs (dataset_id, status)',
    `CREATE TABLE run_items (
      run_id text COLLATE "C" NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      item_id text COLLATE "C" NOT NULL,
      repetition integer NOT NULL,
      item_row_id bigint NOT NULL,
      status text NOT NULL,
      attempt integer NOT NULL DEFAULT 0,
      output text,
      error text,
      latency_ms double precision,
      usage text,
      started_at text,
      completed_at text,
      PRIMARY KEY (run_id, item_id, repetition)
    )`,
    'CREATE INDEX run_items_by_status ON run_items (run_id, status)',
    `CREATE TABLE scores (
      run_id text COLLATE "C" NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      item_id text COLLATE "C" NOT NULL,
      repetition integer NOT NULL,
      scorer_id text COLLATE "C" NOT NULL,
      score double precision,
      reason text,
      error text,
      PRIMARY KEY (run_id, item_id, repetition, scorer_id)
    )`,
  ),
  '0002_cancel_retry_idempotency': statements(
    'ALTER TABLE runs ADD COLUMN cancel_requested_at text',
    'ALTER TABLE runs ADD COLUMN idempotency_hash text',
    `CREATE TABLE run_item_attempts (
      run_id text COLLATE "C" NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      item_id text COLLATE "C" NOT NULL,
      repetition integer NOT NULL,
      attempt integer NOT NULL,
      status text NOT NULL,
      output text,
      error text,
      latency_ms double precision,
      scores text,
      started_at text,
      completed_at text,
      archived_at text NOT NULL,
      PRIMARY KEY (run_id, item_id, repetition, attempt)
    )`,
  ),
  '0003_item_claims': statements(
    'ALTER TABLE run_items ADD COLUMN claim_token integer NOT NULL DEFAULT 0',
    'ALTER TABLE run_items ADD COLUMN lease_until bigint',
    'ALTER TABLE run_items ADD COLUMN worker_id text',
    'DROP INDEX run_items_by_status',
    'CREATE INDEX run_items_claim ON run_items (run_id, status, item_id, repetition)',
    'CREATE INDEX runs_active ON runs (status)',
  ),
  '0004_usage_default_scorers': statements(
    'ALTER TABLE run_items ADD COLUMN input_tokens bigint',
    'ALTER TABLE run_items ADD COLUMN output_tokens bigint',
    'ALTER TABLE run_items ADD COLUMN cost_usd double precision',
    'ALTER TABLE run_item_attempts ADD COLUMN usage text',
    'ALTER TABLE datasets ADD COLUMN scorer_ids text',
  ),
  // Claims lost without an outcome (a crash, kill -9, an expired lease) and the claim under which
  // a suspect item was last started: an item that keeps taking its worker down is failed, not run forever.
  '0005_lost_claims': statements(
    'ALTER TABLE run_items ADD COLUMN lost_claims integer NOT NULL DEFAULT 0',
    'ALTER TABLE run_items ADD COLUMN started_claim integer',
  ),
  // Latency percentiles of a run's summary read this index in order instead of sorting every row
  // (a 1,000,000-item run's p50 took 0.74 s of blocked event loop on SQLite).
  '0006_latency_index': statements('CREATE INDEX run_items_latency ON run_items (run_id, latency_ms)'),
  // The target output cache: an output by the hash of what produced it (target, fingerprint, input,
  // repetition), written with its result in one transaction; results taken from it name their source run.
  '0007_target_cache': statements(
    `CREATE TABLE target_cache (
      key text COLLATE "C" PRIMARY KEY,
      target_id text COLLATE "C" NOT NULL,
      output text NOT NULL,
      latency_ms double precision,
      usage text,
      cost_usd double precision,
      bytes bigint NOT NULL,
      run_id text COLLATE "C" NOT NULL,
      item_id text COLLATE "C" NOT NULL,
      repetition integer NOT NULL,
      created_at text NOT NULL
    )`,
    'CREATE INDEX target_cache_by_target ON target_cache (target_id, created_at)',
    'CREATE INDEX target_cache_by_age ON target_cache (created_at)',
    'CREATE INDEX target_cache_by_run ON target_cache (run_id)',
    'ALTER TABLE run_items ADD COLUMN cached_from text',
    // A re-score scores the stored outputs of this run instead of calling its target.
    'ALTER TABLE runs ADD COLUMN source_run_id text',
  ),
  // The model-call cache (a model target's generations, an llm-judge's verdicts) in the same
  // table, as entries of kind 'model-call'; each run's scorer calls made and reused, with their
  // cost, counted with its outcomes (one row per worker, so workers never wait on each other);
  // and the age index carries each entry's size, so the size limit sums it without reading outputs.
  '0008_model_call_cache': statements(
    "ALTER TABLE target_cache ADD COLUMN kind text NOT NULL DEFAULT 'output'",
    'DROP INDEX target_cache_by_age',
    'CREATE INDEX target_cache_by_age_size ON target_cache (created_at, bytes)',
    `CREATE TABLE run_model_calls (
      run_id text COLLATE "C" NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      worker_id text COLLATE "C" NOT NULL,
      made integer NOT NULL,
      reused integer NOT NULL,
      cost_spent_usd double precision NOT NULL,
      cost_saved_usd double precision NOT NULL,
      PRIMARY KEY (run_id, worker_id)
    )`,
  ),
  // What a scorer that calls a model (a judge) reported spending, per score.
  '0009_score_usage': statements(
    'ALTER TABLE scores ADD COLUMN input_tokens bigint',
    'ALTER TABLE scores ADD COLUMN output_tokens bigint',
    'ALTER TABLE scores ADD COLUMN cost_usd double precision',
  ),
  // What a target reported beside its output (ctx.reportTrace: an agent's trace id and tool calls).
  '0010_result_trace': statements('ALTER TABLE run_items ADD COLUMN trace text'),
};
