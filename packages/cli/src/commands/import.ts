import { createReadStream } from 'node:fs';
import { AssayApiError, type AssayClient, type DatasetItem, type ItemInput } from '@assay/client';
import { MAX_BATCH_ITEMS } from '@assay/core/api';
import {
  COLUMNS_HELP,
  formatFromName,
  ImportFileError,
  type ImportFormat,
  type Mapping,
  type ParsedLine,
  parseTarget,
  readItems as readImport,
  suggestTarget,
} from '@assay/core/io';
import { usage } from './exit.js';

export type Format = ImportFormat;
export type { ParsedLine };

export function formatOf(file: string, explicit?: string): Format {
  if (explicit === 'jsonl' || explicit === 'csv') return explicit;
  if (explicit) throw usage(`--format must be jsonl or csv (got '${explicit}')`);
  const f = formatFromName(file);
  if (f) return f;
  throw usage(`cannot tell the format of ${file} from its name: pass --format jsonl or --format csv`);
}

/** `--map COLUMN=TARGET` options as a mapping (the UI's column mapping, on the command line). */
export function mappingOf(pairs: readonly string[] = []): Mapping {
  const mapping: Mapping = {};
  for (const pair of pairs) {
    const eq = pair.lastIndexOf('=');
    const column = pair.slice(0, eq).trim();
    const target = pair.slice(eq + 1).trim();
    if (eq < 0 || !column) throw usage(`--map takes COLUMN=TARGET (got '${pair}')`);
    if (!parseTarget(target))
      throw usage(
        `--map ${pair}: '${target}' is not a field: use ${COLUMNS_HELP.replace(/; an id .*$/, '')}, or ignore`,
      );
    mapping[column] = target;
  }
  return mapping;
}

const shellWord = (s: string) => (/^[\w.@%+:,/=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * Streams the items of an import file, record by record, never holding the whole file (see
 * `readItems` in `@assay/core/io`, which the UI runs too). A file refused whole (a CSV header with
 * an unknown column) is a usage error naming the line and the `--map` options that would map it.
 */
export async function* readItems(
  file: string,
  format: Format,
  onBytes: (n: number) => void = () => {},
  mapping: Mapping = {},
): AsyncGenerator<ParsedLine> {
  try {
    yield* readImport(createReadStream(file), { format, mapping, onBytes });
  } catch (e) {
    if (!(e instanceof ImportFileError)) throw e;
    const maps = e.unknown.map((c) => `--map ${shellWord(`${c}=${suggestTarget(c) ?? 'metadata'}`)}`);
    throw usage(
      `${file} line ${e.line}: ${e.message}. Columns: ${COLUMNS_HELP}${maps.length ? `; or map them, for instance: ${maps.join(' ')}` : ''}.`,
    );
  }
}

/** `details` of a 413 ITEM_TOO_LARGE. */
interface TooLarge {
  limit: number;
  size: number;
  index?: number;
}

/**
 * Sends items in batches (at most `batchSize` items and ~8 MiB each). A batch the server refuses
 * because some externalIds already exist in the dataset is sent again without them (those lines
 * are reported), and so is one with an item over the server's size limit (413 ITEM_TOO_LARGE: that
 * line is reported); one too large for the server is split in two.
 */
export class BatchSender {
  private items: ItemInput[] = [];
  private lines: number[] = [];
  private bytes = 0;
  /** Items stored so far. */
  imported = 0;
  /** Latest dataset version after a batch. */
  version: number | null = null;
  /** Ids of items stored (only kept with `keepIds`, to roll back). */
  readonly ids: string[] = [];

  constructor(
    private readonly client: AssayClient,
    /** The dataset's id, resolved when the first batch is sent (so `--create` creates it only then). */
    private readonly datasetId: () => Promise<string>,
    private readonly opts: {
      batchSize: number;
      keepIds: boolean;
      onRejected: (line: number, error: string) => void;
      onSent: (count: number) => void;
    },
  ) {}

  async add(line: number, item: ItemInput): Promise<void> {
    const size = JSON.stringify(item).length;
    if (this.items.length && (this.items.length >= this.opts.batchSize || this.bytes + size > 8 * 1024 * 1024)) {
      await this.flush();
    }
    this.items.push(item);
    this.lines.push(line);
    this.bytes += size;
  }

  async flush(): Promise<void> {
    const items = this.items;
    const lines = this.lines;
    this.items = [];
    this.lines = [];
    this.bytes = 0;
    await this.send(items, lines);
  }

  private async send(items: ItemInput[], lines: number[]): Promise<void> {
    if (!items.length) return;
    let added: { version: number; items: DatasetItem[] };
    try {
      added = await this.client.addItems(await this.datasetId(), items);
    } catch (e) {
      const taken =
        (AssayApiError.is(e) && e.code === 'CONFLICT' && (e.details as { externalIds?: string[] })?.externalIds) || [];
      if (taken.length) {
        const set = new Set(taken);
        const keep = items.map((it) => !(it.externalId && set.has(it.externalId)));
        items.forEach((it, i) => {
          if (!keep[i]) this.opts.onRejected(lines[i], `externalId '${it.externalId}' already exists in the dataset`);
        });
        return this.send(
          items.filter((_, i) => keep[i]),
          lines.filter((_, i) => keep[i]),
        );
      }
      // One item over the server's size limit: that line is rejected (named, with the limit), the rest go on.
      const large =
        AssayApiError.is(e) && e.code === 'ITEM_TOO_LARGE' ? (e.details as TooLarge | undefined) : undefined;
      const at = items.length === 1 ? 0 : large?.index;
      if (large && at !== undefined && at < items.length) {
        this.opts.onRejected(
          lines[at]!,
          `item is ${large.size} bytes (input + groundTruth + metadata as JSON); the server takes items of at most ${large.limit} bytes (ASSAY_MAX_ITEM_BYTES on the server)`,
        );
        return this.send(
          items.filter((_, i) => i !== at),
          lines.filter((_, i) => i !== at),
        );
      }
      if (AssayApiError.is(e) && e.status === 413 && items.length > 1) {
        const half = Math.ceil(items.length / 2);
        await this.send(items.slice(0, half), lines.slice(0, half));
        return this.send(items.slice(half), lines.slice(half));
      }
      throw e;
    }
    this.imported += added.items.length;
    this.version = added.version;
    if (this.opts.keepIds) for (const it of added.items) this.ids.push(it.id);
    this.opts.onSent(added.items.length);
  }

  /** Deletes every item this sender stored (the `--strict` promise: all or nothing). */
  async rollback(): Promise<number> {
    const id = await this.datasetId();
    for (let i = 0; i < this.ids.length; i += MAX_BATCH_ITEMS) {
      await this.client.deleteItems(id, this.ids.slice(i, i + MAX_BATCH_ITEMS));
    }
    return this.ids.length;
  }
}
