import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { EXIT, usage, usageExits } from './exit.js';
import { note, printJson, statusColor, table } from './output.js';
import { resolveDataset } from './resolve.js';
import { type ConnectionOptions, connectionOptions, withSession } from './session.js';

export const pageOptions = (command: Command) =>
  command
    .option('--page <n>', 'page, from 0', intArg('--page', 0), 0)
    .option('--per-page <n>', 'rows per page (1–1000)', intArg('--per-page', 1, 1000), 50);

export function intArg(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
}

export function jsonArg(name: string) {
  return (v: string) => {
    try {
      const x = JSON.parse(v);
      if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new Error('not an object');
      return x as Record<string, unknown>;
    } catch {
      throw new InvalidArgumentError(`${name} must be a JSON object, e.g. '{"team":"search"}'`);
    }
  };
}

const date = (iso: string) => iso.replace('T', ' ').slice(0, 19);

/** `assay datasets list|create|show|delete`. */
export function registerDatasetCommands(program: Command): void {
  const datasets = program.command('datasets').description('list, create, show and delete datasets');

  connectionOptions(pageOptions(datasets.command('list').description('list datasets, newest first'))).action(
    withSession(false, async ({ client }, opts: ConnectionOptions & { page: number; perPage: number }) => {
      const r = await client.listDatasets({ page: opts.page, perPage: opts.perPage });
      if (opts.json) {
        printJson(r);
        return EXIT.OK;
      }
      if (!r.datasets.length) {
        console.log(opts.page ? 'no datasets on this page' : 'no datasets yet: `assay datasets create NAME`');
        return EXIT.OK;
      }
      console.log(
        table(
          ['id', 'name', 'items', 'version', 'updated'],
          r.datasets.map((d) => [d.id, d.name, d.itemCount, d.version, date(d.updatedAt)]),
          ['left', 'left', 'right', 'right', 'left'],
        ),
      );
      if (r.pagination.hasMore) note(`${r.pagination.total} datasets; next page: --page ${r.pagination.page + 1}`);
      return EXIT.OK;
    }),
  );

  connectionOptions(
    datasets
      .command('create')
      .description('create an empty dataset')
      .argument('<name>', 'dataset name')
      .option('--description <text>', 'what the dataset is for')
      .option('--metadata <json>', 'a JSON object stored with the dataset', jsonArg('--metadata')),
  ).action(
    withSession(
      false,
      async (
        { client },
        name: string,
        opts: ConnectionOptions & { description?: string; metadata?: Record<string, unknown> },
      ) => {
        const ds = await client.createDataset({ name, description: opts.description, metadata: opts.metadata });
        if (opts.json) printJson(ds);
        else console.log(`created dataset '${ds.name}' (${ds.id})`);
        return EXIT.OK;
      },
    ),
  );

  connectionOptions(
    datasets
      .command('show')
      .description('show a dataset, its recent versions and runs')
      .argument('<dataset>', 'dataset id or name'),
  ).action(
    withSession(false, async ({ client }, ref: string, opts: ConnectionOptions) => {
      const ds = await resolveDataset(client, ref);
      const [versions, runs] = await Promise.all([
        client.listVersions(ds.id, { perPage: 10 }),
        client.listRuns(ds.id, { perPage: 10 }),
      ]);
      if (opts.json) {
        printJson({ dataset: ds, versions: versions.versions, runs: runs.runs });
        return EXIT.OK;
      }
      console.log(
        table(
          ['', ''],
          [
            ['id', ds.id],
            ['name', ds.name],
            ['description', ds.description ?? ''],
            ['items', ds.itemCount],
            ['version', ds.version],
            ['metadata', ds.metadata ? JSON.stringify(ds.metadata) : ''],
            ['created', date(ds.createdAt)],
            ['updated', date(ds.updatedAt)],
          ],
        ),
      );
      if (versions.versions.length) {
        console.log('\nversions');
        console.log(
          table(
            ['version', 'added', 'updated', 'deleted', 'at'],
            versions.versions.map((v) => [v.version, v.added, v.updated, v.deleted, date(v.createdAt)]),
            ['right', 'right', 'right', 'right', 'left'],
          ),
        );
      }
      if (runs.runs.length) {
        console.log('\nrecent runs');
        console.log(
          table(
            ['run', 'status', 'target', 'done', 'created'],
            runs.runs.map((r) => [
              r.id,
              statusColor(r.status),
              r.targetId,
              `${r.succeededCount + r.failedCount}/${r.totalItems}`,
              date(r.createdAt),
            ]),
          ),
        );
      }
      return EXIT.OK;
    }),
  );

  connectionOptions(
    datasets
      .command('delete')
      .description('delete a dataset with its items, runs and results')
      .argument('<dataset>', 'dataset id or name')
      .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)'),
  ).action(
    withSession(false, async ({ client }, ref: string, opts: ConnectionOptions & { yes?: boolean }) => {
      const ds = await resolveDataset(client, ref);
      if (!opts.yes) {
        if (!process.stdin.isTTY) throw usage(`refusing to delete '${ds.name}' (${ds.id}) without --yes`);
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const answer = await rl.question(
          `Delete dataset '${ds.name}' (${ds.id}) with its ${ds.itemCount} items and all its runs? Type its name to confirm: `,
        );
        rl.close();
        if (answer.trim() !== ds.name) {
          note('not deleted');
          return EXIT.ERROR;
        }
      }
      const r = await client.deleteDataset(ds.id);
      if (opts.json) printJson(r);
      else console.log(`deleted dataset '${ds.name}' (${ds.id})`);
      return EXIT.OK;
    }),
  );

  usageExits(datasets);
}
