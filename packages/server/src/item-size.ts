import { AssayError, type DatasetItem, type ItemInput, type ItemUpdate, isTruncated } from '@assay/core';

/**
 * The per-item size limit. An item's size is the UTF-8 bytes of the JSON of its `input`, plus
 * those of its `groundTruth` and `metadata` (as stored); over the limit, adding, importing or
 * updating it is a 413 `ITEM_TOO_LARGE` naming the item. The HTTP body limit follows it, so one
 * item at the limit always fits a request.
 */

/** Default largest item: 4 MiB. */
export const DEFAULT_MAX_ITEM_BYTES = 4 * 1024 * 1024;
/** Smallest default body limit (batches of many small items). */
const MIN_BODY_BYTES = 32 * 1024 * 1024;

/** `ASSAY_MAX_ITEM_BYTES` (a positive integer of bytes), or undefined when unset. Throws when invalid. */
export function maxItemBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.ASSAY_MAX_ITEM_BYTES?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new Error(`ASSAY_MAX_ITEM_BYTES must be a positive integer of bytes (e.g. 4194304 for 4 MiB), not '${raw}'`);
  }
  return n;
}

/**
 * The body limit that goes with an item limit: twice the item limit (JSON escapes in the body may
 * take more room than the stored text) and never below 32 MiB.
 */
export function bodyLimitFor(maxItemBytes: number): number {
  return Math.max(MIN_BODY_BYTES, 2 * maxItemBytes + 64 * 1024);
}

const jsonBytes = (v: unknown) => (v === undefined || v === null ? 0 : Buffer.byteLength(JSON.stringify(v)));

/** Bytes an item takes as stored: its input, groundTruth and metadata as JSON. */
export function itemBytes(item: { input?: unknown; groundTruth?: unknown; metadata?: unknown }): number {
  return jsonBytes(item.input) + jsonBytes(item.groundTruth) + jsonBytes(item.metadata);
}

const FIELDS = ['input', 'groundTruth', 'metadata'] as const;

function name(index: number | undefined, item: { externalId?: string | null; id?: string }): string {
  const parts = [
    index === undefined ? 'item' : `item ${index}`,
    item.externalId ? `externalId '${item.externalId}'` : null,
    item.id ? `id '${item.id}'` : null,
  ].filter(Boolean);
  return parts.length > 1 ? `${parts[0]} (${parts.slice(1).join(', ')})` : parts[0]!;
}

function check(
  item: { input?: unknown; groundTruth?: unknown; metadata?: unknown; externalId?: string | null; id?: string },
  limit: number,
  index?: number,
) {
  for (const f of FIELDS) {
    if (isTruncated(item[f])) {
      throw new AssayError(
        'VALIDATION_ERROR',
        `${name(index, item)}: ${f} is a truncation marker from a list response ({ $truncated, bytes, preview }), not a value; read the item itself (GET …/items/:itemId) for its full ${f}`,
        400,
        { index, field: f },
      );
    }
  }
  const size = itemBytes(item);
  if (size > limit) {
    throw new AssayError(
      'ITEM_TOO_LARGE',
      `${name(index, item)} is ${size} bytes (input + groundTruth + metadata as JSON); items may be at most ${limit} bytes (ASSAY_MAX_ITEM_BYTES)`,
      413,
      {
        limit,
        size,
        ...(index === undefined ? {} : { index }),
        ...(item.externalId ? { externalId: item.externalId } : {}),
      },
    );
  }
}

/** Checks new items (one, or a batch: `index` is the position in it). */
export function checkNewItems(items: ItemInput[], limit: number, batch: boolean): void {
  for (let i = 0; i < items.length; i++) check(items[i]!, limit, batch ? i : undefined);
}

/** Checks an item as an update would leave it: the patched fields over the current ones. */
export function checkUpdatedItem(current: DatasetItem, patch: ItemUpdate, limit: number): void {
  check(
    {
      id: current.id,
      externalId: patch.externalId !== undefined ? patch.externalId : current.externalId,
      input: patch.input !== undefined ? patch.input : current.input,
      groundTruth: patch.groundTruth !== undefined ? patch.groundTruth : current.groundTruth,
      metadata: patch.metadata !== undefined ? patch.metadata : current.metadata,
    },
    limit,
  );
}
