import { once } from 'node:events';
import { createWriteStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { AssayApiError, type Dataset } from '@assay/client';
import { MAX_BATCH_ITEMS } from '@assay/core/api';
import { exportFile } from '@assay/core/io';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { EXIT, usage, usageExits } from './exit.js';
import { BatchSender, formatOf, mappingOf, readItems } from './import.js';
import { note, pc, printJson } from './output.js';
import { progressBar, RateMeter } from './progress.js';
import { resolveDataset } from './resolve.js';
import { type ConnectionOptions, connectionOptions, type Session, withSession } from './session.js';

const intIn = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
  return n;
};

/** Reported invalid lines printed at most; the count is always exact. */
const SHOW_ERRORS = 50;

interface ImportOptions extends ConnectionOptions {
  dataset: string;
  create?: boolean;
  format?: string;
  strict?: boolean;
  batchSize: number;
  map?: string[];
}

/**
 * The dataset to import into. With `--create` and no dataset of that name, it is created only when
 * the first batch is sent, so a refused file leaves no empty dataset behind.
 */
class ImportTarget {
  created = false;
  private constructor(
    private readonly session: Session,
    private readonly name: string,
    private ds: Dataset | null,
  ) {}

  static async resolve(session: Session, ref: string, create: boolean): Promise<ImportTarget> {
    try {
      return new ImportTarget(session, ref, await resolveDataset(session.client, ref));
    } catch (e) {
      if (!create || AssayApiError.is(e)) throw e;
      return new ImportTarget(session, ref, null);
    }
  }

  get exists(): boolean {
    return this.ds !== null;
  }

  /** The dataset's id, creating it first if need be. */
  readonly id = async (): Promise<string> => {
    if (!this.ds) {
      this.ds = await this.session.client.createDataset({ name: this.name });
      this.created = true;
      note(`created dataset '${this.ds.name}' (${this.ds.id})`);
    }
    return this.ds.id;
  };

  /** Deletes the dataset this import created (nothing of it is kept); a failure is noted, not thrown. */
  async remove(): Promise<void> {
    if (!this.created || !this.ds) return;
    try {
      await this.session.client.deleteDataset(this.ds.id);
      note(`removed the dataset '${this.ds.name}' created for this import`);
    } catch (e) {
      note(
        `could not remove the dataset '${this.ds.name}' (${this.ds.id}) created for this import: ${(e as Error).message}`,
      );
    }
  }
}

async function importItems(session: Session, file: string, opts: ImportOptions): Promise<number> {
  const path = resolve(file);
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw usage(`cannot read ${path}: no such file`);
  }
  const format = formatOf(path, opts.format);
  const mapping = mappingOf(opts.map);
  const { client } = session;
  const errors: { line: number; error: string }[] = [];
  let invalid = 0;
  const reject = (line: number, error: string) => {
    invalid++;
    if (errors.length < 1000) errors.push({ line, error });
  };
  const printErrors = () => {
    errors.sort((a, b) => a.line - b.line);
    for (const e of errors.slice(0, SHOW_ERRORS)) note(`${pc.red('invalid')} ${file} line ${e.line}: ${e.error}`);
    if (invalid > SHOW_ERRORS) note(`… and ${invalid - SHOW_ERRORS} more invalid lines`);
  };

  if (opts.strict) {
    // First pass: check every line before anything is stored, so a bad line refuses the whole file.
    let read = 0;
    for await (const p of readItems(path, format, (n) => (read += n), mapping))
      if (p.error !== undefined) reject(p.line, p.error);
    if (invalid) {
      printErrors();
      if (opts.json) printJson({ imported: 0, invalid, errors });
      note(`--strict: ${invalid} invalid line(s) in ${file}; nothing imported`);
      return EXIT.ERROR;
    }
  }

  const target = await ImportTarget.resolve(session, opts.dataset, Boolean(opts.create));
  const bar = progressBar({
    tty: `importing {bar} {percentage}% | {items} items | {invalid} invalid | {rate} items/s | ETA {left}`,
    plain: `importing ${file}: {percentage}% | {items} items | {invalid} invalid | {rate} items/s`,
  });
  const meter = new RateMeter();
  let bytes = 0;
  const sender = new BatchSender(client, target.id, {
    batchSize: opts.batchSize,
    keepIds: Boolean(opts.strict),
    onRejected: (line, error) => {
      if (opts.strict) throw usage(`${file} line ${line}: ${error}`);
      reject(line, error);
    },
    onSent: () => {
      meter.add(sender.imported);
      bar.update(Math.min(bytes, size), payload());
    },
  });
  const payload = () => ({
    items: sender.imported,
    invalid,
    rate: meter.rate.toFixed(0),
    left: meter.rate > 0 && bytes > 0 ? meter.eta(((size - bytes) / bytes) * sender.imported) : '–',
  });
  bar.start(Math.max(size, 1), 0, payload());
  try {
    for await (const p of readItems(path, format, (n) => (bytes += n), mapping)) {
      if (p.error !== undefined) reject(p.line, p.error);
      else await sender.add(p.line, p.item);
    }
    await sender.flush();
    bar.update(Math.max(size, 1), payload());
  } catch (e) {
    bar.stop();
    if (target.created && (opts.strict || sender.imported === 0)) await target.remove();
    else if (opts.strict && sender.ids.length) {
      const n = await sender.rollback();
      note(`--strict: rolled back the ${n} item(s) stored before the error`);
    } else if (sender.imported) note(`${sender.imported} item(s) were stored before the error`);
    throw e;
  }
  bar.stop();
  printErrors();
  if (!target.exists && invalid > 0) {
    // Every line was refused: no dataset is created for nothing.
    if (opts.json) printJson({ datasetId: null, imported: 0, invalid, errors });
    note(`nothing imported: ${invalid} invalid line(s) in ${file}; dataset '${opts.dataset}' was not created`);
    return EXIT.ERROR;
  }
  const after = await client.getDataset(await target.id());
  if (opts.json) {
    printJson({
      datasetId: after.id,
      imported: sender.imported,
      invalid,
      version: after.version,
      itemCount: after.itemCount,
      errors,
    });
  } else {
    console.log(
      `imported ${sender.imported} item(s) into '${after.name}' (${after.id}): now version ${after.version}, ${after.itemCount} items` +
        (invalid ? `; ${invalid} invalid line(s) skipped` : ''),
    );
  }
  return sender.imported === 0 && invalid > 0 ? EXIT.ERROR : EXIT.OK;
}

interface ExportOptions extends ConnectionOptions {
  dataset: string;
  format: 'jsonl' | 'csv';
  output?: string;
  datasetVersion?: number;
}

async function exportItems(session: Session, opts: ExportOptions): Promise<number> {
  const ds = await resolveDataset(session.client, opts.dataset);
  const out = opts.output ? createWriteStream(resolve(opts.output)) : process.stdout;
  const write = async (chunk: string) => {
    if (!out.write(chunk)) await once(out, 'drain');
  };
  let n = 0;
  const items = async function* () {
    for await (const it of session.client.iterateItems(ds.id, { version: opts.datasetVersion })) {
      n++;
      yield it;
    }
  };
  // The shape `@assay/core/io` reads back unchanged (the UI's export writes the same, with an id).
  for await (const part of exportFile(items(), opts.format)) await write(part);
  if (opts.output) {
    (out as ReturnType<typeof createWriteStream>).end();
    await finished(out);
    note(`exported ${n} item(s) of '${ds.name}' to ${opts.output}`);
  }
  return EXIT.OK;
}

/** `assay items import|export`. */
export function registerItemCommands(program: Command): void {
  const items = program.command('items').description('import and export dataset items (JSONL or CSV)');

  connectionOptions(
    items
      .command('import')
      .description(
        'add the items of a JSONL or CSV file to a dataset, streamed in batches; invalid lines are reported with their line numbers and skipped (or, with --strict, refuse the whole file)',
      )
      .argument('<file>', 'a .jsonl file (one { input, groundTruth?, metadata?, externalId? } per line) or a .csv file')
      .requiredOption('-d, --dataset <dataset>', 'dataset id or name')
      .option('--create', 'create the dataset (named --dataset) when it does not exist')
      .addOption(
        new Option('--format <format>', 'file format (default: from the file extension)').choices(['jsonl', 'csv']),
      )
      .option('--strict', 'import nothing when any line is invalid (and undo everything if the server refuses a batch)')
      .option(
        '--map <column=target>',
        'map a column (or JSONL key) to input, input.KEY, groundTruth, groundTruth.KEY, metadata, metadata.KEY, externalId or ignore (default: by its name; repeat for each column)',
        (v: string, all: string[]) => [...all, v],
        [] as string[],
      )
      .option(
        '--batch-size <n>',
        `items per request (at most ${MAX_BATCH_ITEMS})`,
        intIn('--batch-size', 1, MAX_BATCH_ITEMS),
        1000,
      ),
  ).action(withSession(false, (session, file: string, opts: ImportOptions) => importItems(session, file, opts)));

  connectionOptions(
    items
      .command('export')
      .description('write every item of a dataset (at its latest or a given version) as JSONL or CSV')
      .requiredOption('-d, --dataset <dataset>', 'dataset id or name')
      .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv']).default('jsonl'))
      .option('-o, --output <file>', 'write to this file (default: stdout)')
      .option(
        '--dataset-version <n>',
        'export the items as they were at this version',
        intIn('--dataset-version', 0, Number.MAX_SAFE_INTEGER),
      ),
  ).action(withSession(false, (session, opts: ExportOptions) => exportItems(session, opts)));

  usageExits(items);
}
