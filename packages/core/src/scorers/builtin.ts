import type { ValidateFunction } from 'ajv';
import { z } from 'zod';
import type { Scorer } from '../config.js';
import { boundedDistance } from './edit-distance.js';
import { LinearRegExp, UnsupportedRegexError } from './linear-regex.js';
import { createAjv } from './schema.js';
import { containsEach } from './search.js';
import { jsonEqual, missing, NO_GROUND_TRUTH, preview, text } from './text.js';

/**
 * A built-in scorer: a factory with documented, checked options. Configured as
 * `{ id, use, options }`; with `byDefault`, also registered under its own name with default options.
 */
export interface BuiltIn<O = any> {
  use: string;
  description: string;
  options: z.ZodType<O>;
  byDefault: boolean;
  /** It calls a model (or anything outside this process): its calls are bounded like a target's. */
  callsOut?: boolean;
  /**
   * Its time is linear in the size of its arguments, and it builds no pattern, schema or regular
   * expression from item data: on small values (see engine/inline-scoring.ts) it may run on the
   * thread that claims and stores items, where a worker thread's round trip would cost more.
   */
  linear?: boolean;
  create(id: string, options: O, ctx: BuiltInContext): Scorer;
}

/** What a factory may need from the config besides its options. */
export interface BuiltInContext {
  prices: Record<string, { inputPerMillion: number; outputPerMillion: number }>;
}

const define = <O>(b: BuiltIn<O>): BuiltIn<O> => b;
const describe = (base: string, options: Record<string, unknown>, defaults: Record<string, unknown>) => {
  const changed = Object.entries(options).filter(([k, v]) => v !== undefined && !jsonEqual(v, defaults[k]));
  return changed.length ? `${base} (${changed.map(([k, v]) => `${k}: ${preview(v, 40)}`).join(', ')})` : base;
};

// ── exact-match ──────────────────────────────────────────────────────────
const exactOptions = z.strictObject({
  /** Trim whitespace at both ends of string outputs and ground truths. */
  trim: z.boolean().default(false),
  /** Compare strings case-insensitively. */
  ignoreCase: z.boolean().default(false),
});
export const exactMatchBuiltIn = define({
  use: 'exact-match',
  description: '1 when the output equals the ground truth (deep equality for objects), else 0',
  options: exactOptions,
  byDefault: true,
  linear: true,
  create: (id, o) => ({
    id,
    description: describe('1 when the output equals the ground truth (deep equality for objects), else 0', o, {
      trim: false,
      ignoreCase: false,
    }),
    score: ({ output, groundTruth }) => {
      if (missing(groundTruth)) return NO_GROUND_TRUTH;
      if (typeof output === 'string' && typeof groundTruth === 'string') {
        const norm = (s: string) => {
          const t = o.trim ? s.trim() : s;
          return o.ignoreCase ? t.toLocaleLowerCase() : t;
        };
        if (norm(output) === norm(groundTruth)) return 1;
        return o.trim || o.ignoreCase
          ? { score: 0, reason: `expected ${preview(groundTruth)}, got ${preview(output)}` }
          : 0;
      }
      return jsonEqual(output, groundTruth) ? 1 : 0;
    },
  }),
});

// ── contains / contains-all ──────────────────────────────────────────────
const containsOptions = z.strictObject({
  /** Case-insensitive (the default). */
  ignoreCase: z.boolean().default(true),
  /** Look for these strings instead of the ground truth. */
  values: z.array(z.string().min(1)).min(1).optional(),
});
type ContainsOptions = z.infer<typeof containsOptions>;

function needlesOf(o: ContainsOptions, groundTruth: unknown): string[] | null {
  if (o.values) return o.values;
  if (missing(groundTruth)) return null;
  return Array.isArray(groundTruth) ? groundTruth.map(text) : [text(groundTruth)];
}
function found(o: ContainsOptions, output: unknown, needles: string[]) {
  const fold = (s: string) => (o.ignoreCase ? s.toLocaleLowerCase() : s);
  const hits = containsEach(fold(text(output)), needles.map(fold)); // linear, however many and long
  return needles.filter((_, i) => hits[i]);
}

export const containsBuiltIn = define({
  use: 'contains',
  description:
    'The share of expected strings (the ground truth, or each string of a ground-truth array) found in the output text; case-insensitive by default',
  options: containsOptions,
  byDefault: true,
  create: (id, o) => ({
    id,
    description: describe(
      'The share of expected strings (the ground truth, or each string of a ground-truth array) found in the output text',
      o,
      { ignoreCase: true },
    ),
    score: ({ output, groundTruth }) => {
      const needles = needlesOf(o, groundTruth);
      if (!needles) return NO_GROUND_TRUTH;
      const hits = found(o, output, needles);
      return { score: hits.length / needles.length, reason: `${hits.length}/${needles.length} expected strings found` };
    },
  }),
});

export const containsAllBuiltIn = define({
  use: 'contains-all',
  description:
    '1 when the output text contains every expected string (the ground truth array, or options.values), else 0; the reason names the missing ones',
  options: containsOptions,
  byDefault: true,
  create: (id, o) => ({
    id,
    description: describe('1 when the output text contains every expected string, else 0', o, { ignoreCase: true }),
    score: ({ output, groundTruth }) => {
      const needles = needlesOf(o, groundTruth);
      if (!needles) return NO_GROUND_TRUTH;
      const hits = new Set(found(o, output, needles));
      const lost = needles.filter((n) => !hits.has(n));
      const named = lost
        .slice(0, 10)
        .map((n) => preview(n, 40))
        .join(', ');
      const more = lost.length > 10 ? ` and ${(lost.length - 10).toLocaleString('en-US')} more` : '';
      return lost.length
        ? { score: 0, reason: `missing ${named}${more}` }
        : { score: 1, reason: `all ${needles.length} found` };
    },
  }),
});

// ── regex ────────────────────────────────────────────────────────────────
const FLAGS = /^[dgimsuvy]*$/;
const regexOptions = z
  .strictObject({
    /** The pattern (JavaScript syntax, matched by RE2); without it, the item's ground truth is the pattern. */
    pattern: z.string().min(1).optional(),
    /** RegExp flags: i, m, s; d, g, y are ignored; u is always on. */
    flags: z.string().regex(FLAGS, 'must be RegExp flags such as "i" or "ms"').default(''),
    /** Score 1 when the text does NOT match (what `^(?!…)` said; RE2 has no lookahead). Default false. */
    invert: z.boolean().default(false),
  })
  .superRefine((o, ctx) => {
    try {
      new LinearRegExp(o.pattern ?? '', o.flags);
    } catch (e) {
      const path = o.flags.includes('v') ? ['flags'] : ['pattern'];
      ctx.addIssue({ code: 'custom', path, message: e instanceof Error ? e.message : String(e) });
    }
  });
const REGEX_DESCRIPTION =
  '1 when the output text matches a regular expression (options.pattern, or the ground truth), else 0';
export const regexBuiltIn = define({
  use: 'regex',
  description: REGEX_DESCRIPTION,
  options: regexOptions,
  byDefault: true,
  create: (id, o) => {
    const flags = o.flags.replaceAll(/[gy]/g, '');
    const fixed = o.pattern === undefined ? null : new LinearRegExp(o.pattern, flags);
    return {
      id,
      description: fixed
        ? `1 when the output ${o.invert ? 'does not match' : 'matches'} /${o.pattern}/${o.flags}, else 0`
        : REGEX_DESCRIPTION,
      score: ({ output, groundTruth }) => {
        let re = fixed;
        if (!re) {
          if (typeof groundTruth !== 'string')
            return { score: 0, reason: 'item has no ground-truth pattern (a string)' };
          re = new LinearRegExp(groundTruth, flags); // invalid or unsupported (a backreference…): a score error
        }
        // RE2: linear in the text; a pattern too complex for a text this long is a score error
        const m = re.match(text(output));
        const shown = re.source.length > 80 ? `/${re.source.slice(0, 80)}…/${re.flags}` : String(re);
        const hit = m
          ? m.text === null
            ? `matched ${shown}`
            : `matched ${preview(m.text, 40)}`
          : `no match for ${shown}`;
        return { score: Boolean(m) !== o.invert ? 1 : 0, reason: hit };
      },
    };
  },
});

// ── json-valid / json-schema ─────────────────────────────────────────────
type Parsed = { ok: true; value: unknown } | { ok: false; reason: string };
/** A string output parsed as JSON (outputs that are already objects, arrays, numbers… are JSON). */
function parseOutput(output: unknown): Parsed {
  if (typeof output !== 'string') return { ok: true, value: output };
  try {
    return { ok: true, value: JSON.parse(output) };
  } catch (e) {
    return { ok: false, reason: `not JSON: ${e instanceof Error ? e.message : e}` };
  }
}
const kindOfJson = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

const jsonValidOptions = z.strictObject({
  /** Also require this top-level type. */
  type: z.enum(['any', 'object', 'array']).default('any'),
});
export const jsonValidBuiltIn = define({
  use: 'json-valid',
  description: '1 when a text output parses as JSON (structured outputs count as JSON), else 0',
  options: jsonValidOptions,
  byDefault: true,
  linear: true,
  create: (id, o) => ({
    id,
    description: describe('1 when a text output parses as JSON, else 0', o, { type: 'any' }),
    score: ({ output }) => {
      const p = parseOutput(output);
      if (!p.ok) return { score: 0, reason: p.reason };
      const kind = kindOfJson(p.value);
      if (o.type !== 'any' && kind !== o.type) return { score: 0, reason: `JSON ${kind}, expected ${o.type}` };
      return { score: 1, reason: `valid JSON ${kind}` };
    },
  }),
});

const schemaOptions = z.strictObject({
  /** A JSON Schema (draft-07; formats such as "email" and "date-time" are checked). */
  schema: z.union([z.record(z.string(), z.unknown()), z.boolean()]),
});
export const jsonSchemaBuiltIn = define({
  use: 'json-schema',
  description:
    '1 when the output (a JSON text or a structured value) is valid against options.schema, else 0 with the violations',
  options: schemaOptions.transform((o, ctx) => {
    try {
      return { ...o, validate: createAjv().compile(o.schema) as ValidateFunction };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      ctx.addIssue({
        code: 'custom',
        path: ['schema'],
        // a pattern RE2 cannot run (backreference, lookahead) is named as such
        message: e instanceof UnsupportedRegexError ? message : `is not a valid JSON Schema: ${message}`,
      });
      return z.NEVER;
    }
  }),
  byDefault: false,
  create: (id, o) => ({
    id,
    description: '1 when the output is valid against the configured JSON Schema, else 0',
    score: ({ output }) => {
      const p = parseOutput(output);
      if (!p.ok) return { score: 0, reason: p.reason };
      if (o.validate(p.value)) return { score: 1, reason: 'valid' };
      const errors = (o.validate.errors ?? []).slice(0, 5);
      return {
        score: 0,
        reason: errors.map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`).join('; '),
      };
    },
  }),
});

// ── levenshtein ──────────────────────────────────────────────────────────
const levOptions = z.strictObject({
  /** Compare case-insensitively. */
  ignoreCase: z.boolean().default(false),
  /** Trim whitespace at both ends first (the default). */
  trim: z.boolean().default(true),
});
export const levenshteinBuiltIn = define({
  use: 'levenshtein',
  description:
    'Similarity 1 − edit distance / length of the longer text, between the output and the ground truth (1 = equal)',
  options: levOptions,
  byDefault: true,
  create: (id, o) => ({
    id,
    description: describe('Similarity 1 − edit distance / longer length, output vs. ground truth', o, {
      ignoreCase: false,
      trim: true,
    }),
    score: ({ output, groundTruth }) => {
      if (missing(groundTruth)) return NO_GROUND_TRUTH;
      const norm = (v: unknown) => {
        const t = o.trim ? text(v).trim() : text(v);
        return o.ignoreCase ? t.toLocaleLowerCase() : t;
      };
      const a = norm(output);
      const b = norm(groundTruth);
      const longest = Math.max(a.length, b.length);
      if (longest === 0) return { score: 1, reason: 'both empty' };
      const r = boundedDistance(a, b); // exact, or a lower bound for long and very different texts
      if ('atLeast' in r) {
        const n = (x: number) => x.toLocaleString('en-US');
        throw new Error(
          `texts of ${n(a.length)} and ${n(b.length)} characters differ by at least ${n(r.atLeast)} edits: ` +
            `too many to count exactly in bounded time (similarity at most ${Math.floor((1 - r.atLeast / longest) * 1000) / 1000})`,
        );
      }
      const d = r.distance;
      return { score: 1 - d / longest, reason: `${d} edit${d === 1 ? '' : 's'} over ${longest} characters` };
    },
  }),
});

// ── numeric-close ────────────────────────────────────────────────────────
const NUMBER = /[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/i;
/** A number from a number, a numeric string, or (with `extract`) the first number in a text ("about 1,234.5 km"). */
export function numberIn(value: unknown, extract: boolean): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const s = value.trim();
  if (s !== '' && Number.isFinite(Number(s))) return Number(s);
  if (!extract) return null;
  const m = NUMBER.exec(s.replaceAll(/(\d),(?=\d{3}\b)/g, '$1'));
  return m ? Number(m[0]) : null;
}
const numericOptions = z.strictObject({
  /** Passes when |output − expected| ≤ absolute. */
  absolute: z.number().min(0).default(0),
  /** Or when |output − expected| ≤ relative × |expected| (0.01 = 1 %). */
  relative: z.number().min(0).default(0),
  /** Take the first number in a text output ("about 42 km") instead of requiring a bare number. */
  extract: z.boolean().default(true),
});
export const numericCloseBuiltIn = define({
  use: 'numeric-close',
  description:
    '1 when the output number is within options.absolute or options.relative of the ground truth (exactly equal by default), else 0',
  options: numericOptions,
  byDefault: true,
  create: (id, o) => ({
    id,
    description: describe('1 when the output number is close to the ground truth, else 0', o, {
      absolute: 0,
      relative: 0,
      extract: true,
    }),
    score: ({ output, groundTruth }) => {
      const expected = numberIn(groundTruth, false);
      if (expected === null) return { score: 0, reason: 'item has no numeric ground truth' };
      const actual = numberIn(output, o.extract);
      if (actual === null) return { score: 0, reason: `no number in output ${preview(output)}` };
      const diff = Math.abs(actual - expected);
      const allowed = Math.max(o.absolute, o.relative * Math.abs(expected));
      // Float noise (0.1 + 0.2) is not a miss.
      const ok = diff <= allowed + Number.EPSILON * Math.max(1, Math.abs(expected)) * 4;
      return { score: ok ? 1 : 0, reason: `${actual} vs ${expected}: off by ${Number(diff.toPrecision(6))}` };
    },
  }),
});

// ── latency-under ────────────────────────────────────────────────────────
const latencyOptions = z.strictObject({
  /** The budget in milliseconds: 1 when the target answered within it. */
  ms: z.number().positive(),
});
export const latencyUnderBuiltIn = define({
  use: 'latency-under',
  description: '1 when the target answered within options.ms milliseconds, else 0',
  options: latencyOptions,
  byDefault: false,
  linear: true,
  create: (id, o) => ({
    id,
    description: `1 when the target answered within ${o.ms} ms, else 0`,
    score: ({ latencyMs }) => ({
      score: latencyMs <= o.ms ? 1 : 0,
      reason: `${Math.round(latencyMs)} ms (budget ${o.ms} ms)`,
    }),
  }),
});
