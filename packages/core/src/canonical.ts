import { createHash } from 'node:crypto';

/**
 * JSON text of a value with every object's keys sorted, so equal values give equal text whatever
 * the order their keys were written in. `undefined` members are left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sorted(value)) ?? 'null';
}

function sorted(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(sorted);
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return sorted((v as { toJSON(): unknown }).toJSON());
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) {
    if (k === '__proto__') Object.defineProperty(out, k, { value: sorted(o[k]), enumerable: true, writable: true });
    else out[k] = sorted(o[k]);
  }
  return out;
}

/** SHA-256 of a text, in hex. */
export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** SHA-256 of a value's {@link canonicalJson}: the same for equal values, in hex. */
export const canonicalHash = (value: unknown): string => sha256(canonicalJson(value));
