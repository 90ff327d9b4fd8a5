import type { Scorer } from './config.js';

/** Canonical text of a value for comparisons: strings as is, everything else as JSON. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value);
}

/** Deep equality for JSON-like values, insensitive to object key order. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return (
    ka.length === kb.length &&
    ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

export const exactMatch: Scorer = {
  id: 'exact-match',
  description: '1 when the output equals the ground truth (deep equality for objects), else 0',
  score: ({ output, groundTruth }) => {
    if (groundTruth === undefined || groundTruth === null) return { score: 0, reason: 'item has no ground truth' };
    return jsonEqual(output, groundTruth) ? 1 : 0;
  },
};

export const contains: Scorer = {
  id: 'contains',
  description: '1 when the output text contains the ground truth text (case-insensitive), else 0',
  score: ({ output, groundTruth }) => {
    if (groundTruth === undefined || groundTruth === null) return { score: 0, reason: 'item has no ground truth' };
    const needles = Array.isArray(groundTruth) ? groundTruth.map(text) : [text(groundTruth)];
    const hay = text(output).toLowerCase();
    const found = needles.filter((n) => hay.includes(n.toLowerCase()));
    return { score: found.length / needles.length, reason: `${found.length}/${needles.length} expected strings found` };
  },
};

export const builtInScorers: Scorer[] = [exactMatch, contains];
