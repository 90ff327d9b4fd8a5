import type { BuiltInScorerConfig, ModelPrice, Scorer } from '../config.js';
import {
  type BuiltIn,
  containsAllBuiltIn,
  containsBuiltIn,
  exactMatchBuiltIn,
  jsonSchemaBuiltIn,
  jsonValidBuiltIn,
  latencyUnderBuiltIn,
  levenshteinBuiltIn,
  numericCloseBuiltIn,
  regexBuiltIn,
} from './builtin.js';
import { llmJudgeBuiltIn } from './llm-judge.js';

export type { BuiltIn, BuiltInContext } from './builtin.js';
export { numberIn } from './builtin.js';

/** Every built-in scorer, by the name `use:` refers to. */
export const builtIns: ReadonlyMap<string, BuiltIn> = new Map(
  [
    exactMatchBuiltIn,
    containsBuiltIn,
    containsAllBuiltIn,
    regexBuiltIn,
    jsonValidBuiltIn,
    jsonSchemaBuiltIn,
    levenshteinBuiltIn,
    numericCloseBuiltIn,
    latencyUnderBuiltIn,
    llmJudgeBuiltIn,
  ].map((b) => [b.use, b as BuiltIn]),
);

/**
 * Builds a scorer from `{ id, use, options }`, checking the options. Throws an Error naming the
 * first bad option (`options.ignoreCase: expected boolean`).
 */
export function createBuiltInScorer(cfg: BuiltInScorerConfig, prices: Record<string, ModelPrice> = {}): Scorer {
  const b = builtIns.get(cfg.use);
  if (!b) throw new Error(`use: unknown built-in scorer '${cfg.use}' (one of ${[...builtIns.keys()].join(', ')})`);
  const parsed = b.options.safeParse(cfg.options ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.length ? `options.${issue.path.join('.')}` : 'options';
    const unknown = issue.code === 'unrecognized_keys' ? `options.${issue.keys[0]}` : null;
    throw new Error(
      unknown
        ? `${unknown} is not an option of ${cfg.use} (options: ${Object.keys(shapeOf(b)).join(', ') || 'none'})`
        : `${path}: ${issue.message}`,
    );
  }
  const created = b.create(cfg.id, parsed.data, { prices });
  const scorer = cfg.description ? { ...created, description: cfg.description } : created;
  if (!b.callsOut) local.add(scorer);
  if (b.linear) linear.add(scorer);
  return scorer;
}

const local = new WeakSet<Scorer>();
const linear = new WeakSet<Scorer>();

/** Whether a scorer is a built-in whose time is linear in its arguments' size ({@link BuiltIn.linear}). */
export const isLinearScorer = (scorer: Scorer): boolean => linear.has(scorer);

/**
 * Whether a scorer is a built-in that works on its arguments alone (no model, no network): scoring
 * an output it was given then loads nothing outside this machine. Code scorers may call anything,
 * so they are never local.
 */
export const isLocalScorer = (scorer: Scorer): boolean => local.has(scorer);

function shapeOf(b: BuiltIn): Record<string, unknown> {
  let s = b.options as unknown as { shape?: Record<string, unknown>; def?: { in?: unknown; schema?: unknown } };
  for (let i = 0; i < 4 && !s.shape && s.def; i++) s = (s.def.in ?? s.def.schema) as typeof s;
  return s.shape ?? {};
}

/** The built-ins registered under their own name with default options (those that need none). */
export const builtInScorers: Scorer[] = [...builtIns.values()]
  .filter((b) => b.byDefault)
  .map((b) => createBuiltInScorer({ id: b.use, use: b.use }));

export const exactMatch = builtInScorers.find((s) => s.id === 'exact-match')!;
export const contains = builtInScorers.find((s) => s.id === 'contains')!;
