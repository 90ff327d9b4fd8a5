import type { AssayConfig, Scorer, Target } from '../config.js';
import { validateConfig } from '../config.js';
import { builtInScorers } from '../scorers.js';

/** The targets and scorers a process knows: the config's, plus built-in scorers. */
export interface Registry {
  targets: Map<string, Target>;
  scorers: Map<string, Scorer>;
  builtInScorerIds: Set<string>;
}

export function createRegistry(config: AssayConfig = { targets: [] }): Registry {
  const cfg = validateConfig(config);
  const scorers = new Map<string, Scorer>(builtInScorers.map((s) => [s.id, s]));
  // A configured scorer may replace a built-in one of the same id.
  for (const s of cfg.scorers) scorers.set(s.id, s);
  return {
    targets: new Map(cfg.targets.map((t) => [t.id, t])),
    scorers,
    builtInScorerIds: new Set(builtInScorers.filter((s) => scorers.get(s.id) === s).map((s) => s.id)),
  };
}
