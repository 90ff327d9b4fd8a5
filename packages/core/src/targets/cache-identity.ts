import { canonicalHash } from '../canonical.js';
import type { CacheIdentity } from '../config.js';
import { templatePaths } from './template.js';

const ITEM_FIELDS = ['groundTruth', 'metadata', 'itemId'] as const;

/**
 * The cache identity of a declared (`http`, `model`) target: a hash of the declaration's parts that
 * shape the output (`parts`: never secrets such as header values), and the item fields its
 * templates read besides the input, which then belong to each item's key. A template that reads
 * `{{runId}}` sends something new in every run: such a target is never cached.
 */
export function declaredIdentity(kind: string, parts: Record<string, unknown>, templates: unknown[]): CacheIdentity {
  const roots = new Set(templates.flatMap((t) => templatePaths(t).map((p) => p.split('.')[0])));
  if (roots.has('runId'))
    return {
      fingerprint: null,
      reason: 'a template uses {{runId}}, so every run sends a different request',
    };
  const itemFields = ITEM_FIELDS.filter((f) => roots.has(f));
  return { fingerprint: canonicalHash({ kind, ...parts }), ...(itemFields.length ? { itemFields } : {}) };
}
