import { AssayApiError, type AssayClient, type Dataset, type Run } from '@assay/client';
import { usage } from './exit.js';

const notFound = (e: unknown) => AssayApiError.is(e) && e.status === 404;

async function* allDatasets(client: AssayClient): AsyncGenerator<Dataset> {
  for (let page = 0; ; page++) {
    const r = await client.listDatasets({ page, perPage: 1000 });
    yield* r.datasets;
    if (!r.pagination.hasMore) return;
  }
}

/** A dataset by id, or else by its exact name. */
export async function resolveDataset(client: AssayClient, ref: string): Promise<Dataset> {
  try {
    return await client.getDataset(ref);
  } catch (e) {
    if (!notFound(e)) throw e;
  }
  const named: Dataset[] = [];
  for await (const d of allDatasets(client)) if (d.name === ref) named.push(d);
  if (named.length === 1) return named[0];
  if (named.length > 1) {
    throw usage(`${named.length} datasets are named '${ref}' (${named.map((d) => d.id).join(', ')}): give the id`);
  }
  throw usage(`no dataset with id or name '${ref}'; \`assay datasets list\` shows them`);
}

/**
 * A run by id. Run routes live under their dataset: with `--dataset` that is one request,
 * otherwise each dataset is asked in turn (newest first).
 */
export async function findRun(client: AssayClient, runId: string, datasetRef?: string): Promise<Run> {
  if (datasetRef) {
    const ds = await resolveDataset(client, datasetRef);
    try {
      return await client.getRun(ds.id, runId);
    } catch (e) {
      if (notFound(e)) throw usage(`dataset '${ds.name}' (${ds.id}) has no run '${runId}'`);
      throw e;
    }
  }
  for await (const d of allDatasets(client)) {
    try {
      return await client.getRun(d.id, runId);
    } catch (e) {
      if (!notFound(e)) throw e;
    }
  }
  throw usage(`no run '${runId}' in any dataset; \`assay runs list DATASET\` shows a dataset's runs`);
}

/** Newest finished-and-completed run of a dataset that matches `pred`. */
export async function latestCompletedRun(
  client: AssayClient,
  datasetId: string,
  pred: (r: Run) => boolean,
): Promise<Run | undefined> {
  for (let page = 0; ; page++) {
    const r = await client.listRuns(datasetId, { page, perPage: 200 });
    const hit = r.runs.find((x) => x.status === 'completed' && pred(x));
    if (hit) return hit;
    if (!r.pagination.hasMore) return undefined;
  }
}
