import { createHash } from 'node:crypto';

/**
 * JSON text of a value with every object's keys sorted, so equal values give equal text whatever
 * the order their keys were written in. `undefined` members are left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sorted(value)) ?? 'null';
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v === null || typeof v !== 'object') return v;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return sorted((v as { toJSON(): unknown }).toJSON());
  const o = v as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, sorted(o[k])]),
  );
}

/** SHA-256 of a text, in hex. */
export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** SHA-256 of a value's {@link canonicalJson}: the same for equal values, in hex. */
export const canonicalHash = (value: unknown): string => sha256(canonicalJson(value));
