import type { ScorerKind } from '@assay/contract';
import type {
  AssayConfig,
  BuiltInScorerConfig,
  HttpTargetConfig,
  ModelTargetConfig,
  Scorer,
  Target,
  TargetConfig,
} from '../config.js';
import { kindOf, validateConfig } from '../config.js';
import { AssayError } from '../errors.js';
import { builtInScorers, createBuiltInScorer } from '../scorers/index.js';
import { createHttpTarget } from '../targets/http.js';
import { createModelTarget } from '../targets/model.js';

/** The targets and scorers a process knows: the config's, plus built-in scorers. */
export interface Registry {
  targets: Map<string, Target>;
  scorers: Map<string, Scorer>;
  builtInScorerIds: Set<string>;
  /** For scorers configured with `use`: the built-in they are made of. */
  scorerUses: Map<string, string>;
  /** What each scorer measures (every scorer has an entry; see {@link Scorer.kind}). */
  scorerKinds: Map<string, ScorerKind>;
}

/** The kind of a configured scorer: its own, else `latency` for a latency budget, else `quality`. */
const kindOfScorer = (s: { kind?: ScorerKind; use?: string }): ScorerKind =>
  s.kind ?? (s.use === 'latency-under' ? 'latency' : 'quality');

export interface RegistryOptions {
  /** Where `${env:NAME}` in http target headers is looked up. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Names the config in error messages (its path). */
  source?: string;
}

/**
 * Builds the runnable targets and scorers of a config: code targets as they are, `http` and
 * `model` targets from their declarations, `{ use, options }` scorers from the built-ins. Every
 * problem is an INVALID_CONFIG error naming the target or scorer and the field, raised here, at
 * start-up (environment variables of headers included).
 */
export function createRegistry(config: AssayConfig = { targets: [] }, opts: RegistryOptions = {}): Registry {
  const source = opts.source ?? 'config';
  const cfg = validateConfig(config, source);
  const env = opts.env ?? (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
  const fail = (at: string, e: unknown): never => {
    throw new AssayError('INVALID_CONFIG', `${source}: ${at}: ${e instanceof Error ? e.message : String(e)}`, 400);
  };
  const targets = new Map<string, Target>();
  cfg.targets.forEach((t: TargetConfig, i) => {
    const at = `targets[${i}] '${t.id}'`;
    const kind = kindOf(t);
    try {
      if (kind === 'http') targets.set(t.id, createHttpTarget(t as HttpTargetConfig, env));
      else if (kind === 'model') targets.set(t.id, createModelTarget(t as ModelTargetConfig, cfg.prices));
      else targets.set(t.id, { ...(t as Target), kind: 'function' });
    } catch (e) {
      fail(`${at} (${t.type})`, e);
    }
  });
  const scorers = new Map<string, Scorer>(builtInScorers.map((s) => [s.id, s]));
  const scorerUses = new Map<string, string>();
  const scorerKinds = new Map<string, ScorerKind>(
    builtInScorers.map((s) => [s.id, kindOfScorer({ kind: s.kind, use: s.id })]),
  );
  cfg.scorers.forEach((s, i) => {
    scorerKinds.set(s.id, kindOfScorer(s as { kind?: ScorerKind; use?: string }));
    if ('use' in s && s.use !== undefined) {
      const b = s as BuiltInScorerConfig;
      try {
        scorers.set(b.id, createBuiltInScorer(b, cfg.prices));
        scorerUses.set(b.id, b.use);
      } catch (e) {
        fail(`scorers[${i}] '${b.id}' (use: '${b.use}')`, e);
      }
    } else {
      // A configured scorer may replace a built-in one of the same id.
      scorers.set(s.id, s as Scorer);
      scorerUses.delete(s.id);
    }
  });
  return {
    targets,
    scorers,
    builtInScorerIds: new Set(builtInScorers.filter((s) => scorers.get(s.id) === s).map((s) => s.id)),
    scorerUses,
    scorerKinds,
  };
}
