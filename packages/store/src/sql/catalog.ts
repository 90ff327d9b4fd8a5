import {
  AssayError,
  type CatalogStore,
  type CreateDatasetInput,
  type Dataset,
  type DatasetItem,
  type DatasetVersion,
  type ItemInput,
  type ItemUpdate,
  type ListBounds,
  newId,
  notFound,
  type Page,
  type PageQuery,
  type UpdateDatasetInput,
  validationError,
} from '@assay/core';
import type { Selectable, Transaction } from 'kysely';
import type { DatasetItemsTable, DatasetsTable, DB } from '../db-types.js';
import { type Db, isoNow, type SqlContext } from './context.js';
import { listDatasets as listDatasetPage, listItems as listItemPage } from './listing.js';
import { enc, pageOf, toDataset, toItem, visibleAt } from './rows.js';

/**
 * The catalog on SQL: datasets, their items (one row per revision, valid from one version to
 * the next) and their versions. Every item mutation is one write transaction and one version bump.
 */
export function createCatalogStore(ctx: SqlContext): CatalogStore {
  const now = () => isoNow(ctx.clock);

  // ── datasets ─────────────────────────────────────────────────────────────

  async function createDataset(input: CreateDatasetInput): Promise<Dataset> {
    const ts = now();
    const row = {
      id: newId('ds'),
      name: input.name,
      description: input.description ?? null,
      metadata: enc(input.metadata),
      input_schema: enc(input.inputSchema),
      ground_truth_schema: enc(input.groundTruthSchema),
      scorer_ids: enc(input.scorerIds),
      version: 0,
      item_count: 0,
      created_at: ts,
      updated_at: ts,
    };
    await ctx.db.insertInto('datasets').values(row).execute();
    return toDataset(row);
  }

  async function getDataset(id: string, db: Db = ctx.db): Promise<Dataset | undefined> {
    const r = await db.selectFrom('datasets').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toDataset(r);
  }

  async function findDatasetByName(name: string): Promise<Dataset | undefined> {
    const r = await ctx.db
      .selectFrom('datasets')
      .selectAll()
      .where('name', '=', name)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return r && toDataset(r);
  }

  async function listDatasets(q: PageQuery & { bounds?: ListBounds }): Promise<Page<Dataset>> {
    return listDatasetPage(ctx.db, q);
  }

  async function updateDataset(id: string, patch: UpdateDatasetInput): Promise<Dataset> {
    return ctx.write(async (trx) => {
      const current = await getDataset(id, trx);
      if (!current) throw notFound('Dataset', id);
      const set: Partial<Selectable<DatasetsTable>> = { updated_at: now() };
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.description !== undefined) set.description = patch.description ?? null;
      if (patch.metadata !== undefined) set.metadata = enc(patch.metadata);
      if (patch.inputSchema !== undefined) set.input_schema = enc(patch.inputSchema);
      if (patch.groundTruthSchema !== undefined) set.ground_truth_schema = enc(patch.groundTruthSchema);
      if (patch.scorerIds !== undefined) set.scorer_ids = enc(patch.scorerIds);
      await trx.updateTable('datasets').set(set).where('id', '=', id).execute();
      return (await getDataset(id, trx))!;
    });
  }

  /**
   * The active-run guard and the delete are one transaction. SQLite's write lock keeps every other
   * writer out meanwhile. PostgreSQL locks the dataset row `for update` before counting: a run
   * insert takes a key-share lock on it (the foreign key), so a trigger that inserted first makes
   * this wait for its commit and the count then sees the run (refused), and a trigger that comes
   * later waits for this delete and then fails to find the dataset. No run is ever cascaded away.
   */
  async function deleteDataset(id: string): Promise<void> {
    await ctx.write(async (trx) => {
      let lock = trx.selectFrom('datasets').select('id').where('id', '=', id);
      if (ctx.adapter.supportsRowLocks) lock = lock.forUpdate();
      if (!(await lock.executeTakeFirst())) throw notFound('Dataset', id);
      const { n } = await trx
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('dataset_id', '=', id)
        .where('status', 'in', ['pending', 'running'])
        .executeTakeFirstOrThrow();
      if (Number(n) > 0) {
        throw new AssayError('CONFLICT', 'dataset has pending or running runs; wait for them to finish first', 409);
      }
      await trx.deleteFrom('datasets').where('id', '=', id).execute();
    });
  }

  // ── items ────────────────────────────────────────────────────────────────

  /** Opens the next version of a dataset inside a write transaction. */
  async function bumpVersion(
    trx: Transaction<DB>,
    datasetId: string,
    change: { added: number; updated: number; deleted: number },
  ): Promise<number> {
    const ds = await trx.selectFrom('datasets').select(['version']).where('id', '=', datasetId).executeTakeFirst();
    if (!ds) throw notFound('Dataset', datasetId);
    const version = Number(ds.version) + 1;
    const ts = now();
    await trx
      .updateTable('datasets')
      .set((eb) => ({
        version,
        item_count: eb('item_count', '+', change.added - change.deleted),
        updated_at: ts,
      }))
      .where('id', '=', datasetId)
      .execute();
    await trx
      .insertInto('dataset_versions')
      .values({ dataset_id: datasetId, version, ...change, created_at: ts })
      .execute();
    return version;
  }

  function duplicateExternalIds(ids: (string | null | undefined)[]): string[] {
    const seen = new Set<string>();
    const dup = new Set<string>();
    for (const id of ids) {
      if (id == null) continue;
      if (seen.has(id)) dup.add(id);
      seen.add(id);
    }
    return [...dup];
  }

  async function externalIdsInUse(trx: Db, datasetId: string, ids: string[], exceptItemIds: string[] = []) {
    const inUse: string[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      let q = trx
        .selectFrom('dataset_items')
        .select(['external_id'])
        .where('dataset_id', '=', datasetId)
        .where('valid_to', 'is', null)
        .where('external_id', 'in', ids.slice(i, i + 500));
      if (exceptItemIds.length) q = q.where('id', 'not in', exceptItemIds);
      for (const r of await q.execute()) inUse.push(r.external_id!);
    }
    return inUse;
  }

  async function addItems(datasetId: string, items: ItemInput[]): Promise<{ version: number; items: DatasetItem[] }> {
    const dup = duplicateExternalIds(items.map((i) => i.externalId));
    if (dup.length) throw validationError('externalId must be unique within a batch', { duplicates: dup.slice(0, 20) });
    return ctx.write(async (trx) => {
      await lockDataset(trx, datasetId);
      const ext = items.map((i) => i.externalId).filter((x): x is string => typeof x === 'string');
      if (ext.length) {
        const inUse = await externalIdsInUse(trx, datasetId, ext);
        if (inUse.length)
          throw new AssayError('CONFLICT', 'externalId already used by another item of this dataset', 409, {
            externalIds: inUse.slice(0, 20),
          });
      }
      const version = await bumpVersion(trx, datasetId, { added: items.length, updated: 0, deleted: 0 });
      const ts = now();
      const rows = items.map((i) => ({
        id: newId('item'),
        dataset_id: datasetId,
        external_id: i.externalId ?? null,
        input: enc(i.input) ?? 'null',
        ground_truth: enc(i.groundTruth),
        metadata: enc(i.metadata),
        valid_from: version,
        valid_to: null,
        created_at: ts,
        updated_at: ts,
      }));
      for (let i = 0; i < rows.length; i += 500) {
        await trx
          .insertInto('dataset_items')
          .values(rows.slice(i, i + 500))
          .execute();
      }
      return { version, items: rows.map((r) => toItem({ ...r, row_id: 0 })) };
    });
  }

  async function currentRows(trx: Db, datasetId: string, ids: string[]) {
    const out: Selectable<DatasetItemsTable>[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      out.push(
        ...(await trx
          .selectFrom('dataset_items')
          .selectAll()
          .where('dataset_id', '=', datasetId)
          .where('valid_to', 'is', null)
          .where('id', 'in', ids.slice(i, i + 500))
          .execute()),
      );
    }
    return out;
  }

  /**
   * First step of every item mutation: fails with 404 for an unknown dataset and, on engines with
   * row locks, locks the dataset row, so concurrent batches of one dataset take versions one after
   * another and see each other's externalIds. (`no key update` lets runs keep referencing it.)
   */
  async function lockDataset(trx: Transaction<DB>, datasetId: string): Promise<void> {
    let q = trx.selectFrom('datasets').select(['id']).where('id', '=', datasetId);
    if (ctx.adapter.supportsRowLocks) q = q.forNoKeyUpdate();
    if (!(await q.executeTakeFirst())) throw notFound('Dataset', datasetId);
  }

  /**
   * Locks the dataset and reads the current rows of `ids`: a 404 naming the first id that is not a
   * current item of the dataset (and up to 20 of them in `itemIds`).
   */
  async function lockedCurrentRows(trx: Transaction<DB>, datasetId: string, ids: string[]) {
    await lockDataset(trx, datasetId);
    const rows = await currentRows(trx, datasetId, ids);
    const found = new Set(rows.map((r) => r.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length)
      throw new AssayError('NOT_FOUND', `item '${missing[0]}' not found in dataset '${datasetId}'`, 404, {
        itemIds: missing.slice(0, 20),
      });
    return rows;
  }

  async function updateItems(
    datasetId: string,
    updates: (ItemUpdate & { id: string })[],
  ): Promise<{ version: number; items: DatasetItem[] }> {
    const ids = updates.map((u) => u.id);
    if (new Set(ids).size !== ids.length) throw validationError('an item may appear only once per batch');
    const dup = duplicateExternalIds(updates.map((u) => u.externalId));
    if (dup.length) throw validationError('externalId must be unique within a batch', { duplicates: dup.slice(0, 20) });
    return ctx.write(async (trx) => {
      const rows = await lockedCurrentRows(trx, datasetId, ids);
      const ext = updates.map((u) => u.externalId).filter((x): x is string => typeof x === 'string');
      if (ext.length) {
        const inUse = await externalIdsInUse(trx, datasetId, ext, ids);
        if (inUse.length)
          throw new AssayError('CONFLICT', 'externalId already used by another item of this dataset', 409, {
            externalIds: inUse.slice(0, 20),
          });
      }
      const version = await bumpVersion(trx, datasetId, { added: 0, updated: updates.length, deleted: 0 });
      const byId = new Map(rows.map((r) => [r.id, r]));
      const ts = now();
      const out: DatasetItem[] = [];
      for (const u of updates) {
        const old = byId.get(u.id)!;
        await trx.updateTable('dataset_items').set({ valid_to: version }).where('row_id', '=', old.row_id).execute();
        const row = {
          id: old.id,
          dataset_id: datasetId,
          external_id: u.externalId !== undefined ? (u.externalId ?? null) : old.external_id,
          input: u.input !== undefined ? (enc(u.input) ?? 'null') : old.input,
          ground_truth: u.groundTruth !== undefined ? enc(u.groundTruth) : old.ground_truth,
          metadata: u.metadata !== undefined ? enc(u.metadata) : old.metadata,
          valid_from: version,
          valid_to: null,
          created_at: old.created_at,
          updated_at: ts,
        };
        await trx.insertInto('dataset_items').values(row).execute();
        out.push(toItem({ ...row, row_id: 0 }));
      }
      return { version, items: out };
    });
  }

  async function deleteItems(datasetId: string, itemIds: string[]): Promise<{ version: number; count: number }> {
    const ids = [...new Set(itemIds)];
    return ctx.write(async (trx) => {
      const rows = await lockedCurrentRows(trx, datasetId, ids);
      const version = await bumpVersion(trx, datasetId, { added: 0, updated: 0, deleted: ids.length });
      for (let i = 0; i < rows.length; i += 500) {
        await trx
          .updateTable('dataset_items')
          .set({ valid_to: version })
          .where(
            'row_id',
            'in',
            rows.slice(i, i + 500).map((r) => r.row_id),
          )
          .execute();
      }
      return { version, count: ids.length };
    });
  }

  async function getItem(datasetId: string, itemId: string, version?: number): Promise<DatasetItem | undefined> {
    let q = ctx.db.selectFrom('dataset_items').selectAll().where('dataset_id', '=', datasetId).where('id', '=', itemId);
    q = version === undefined ? q.where('valid_to', 'is', null) : q.where(visibleAt(version));
    const r = await q.executeTakeFirst();
    return r && toItem(r);
  }

  async function listItems(
    datasetId: string,
    q: PageQuery & { version?: number; search?: string; bounds?: ListBounds },
  ): Promise<Page<DatasetItem>> {
    return listItemPage(ctx.db, ctx.adapter, datasetId, q);
  }

  async function countItems(datasetId: string, version: number): Promise<number> {
    const { n } = await ctx.db
      .selectFrom('dataset_items')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('dataset_id', '=', datasetId)
      .where(visibleAt(version))
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  async function listVersions(datasetId: string, q: PageQuery): Promise<Page<DatasetVersion>> {
    const rows = await ctx.db
      .selectFrom('dataset_versions')
      .selectAll()
      .where('dataset_id', '=', datasetId)
      .orderBy('version', 'desc')
      .limit(q.perPage)
      .offset(q.page * q.perPage)
      .execute();
    const { n } = await ctx.db
      .selectFrom('dataset_versions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('dataset_id', '=', datasetId)
      .executeTakeFirstOrThrow();
    return pageOf(
      rows.map((r) => ({
        datasetId: r.dataset_id,
        version: Number(r.version),
        added: Number(r.added),
        updated: Number(r.updated),
        deleted: Number(r.deleted),
        createdAt: r.created_at,
      })),
      Number(n),
      q,
    );
  }

  return {
    createDataset,
    getDataset: (id) => getDataset(id),
    findDatasetByName,
    listDatasets,
    updateDataset,
    deleteDataset,
    addItems,
    updateItems,
    deleteItems,
    getItem,
    listItems,
    countItems,
    listVersions,
  };
}
