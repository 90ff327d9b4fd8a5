import type { Scorer } from '@assay/core';
import type { MastraScorer } from './mastra-types.js';

const reasonText = (r: unknown): string | null =>
  r === undefined || r === null ? null : typeof r === 'string' ? r : JSON.stringify(r);

/**
 * A Mastra scorer (a `createScorer(...)` pipeline) as an Assay scorer under `id`: `run` gets the
 * item's input, the target's output and the ground truth; its score and reason are the score.
 * A throwing pipeline, a `notScorable()` step or a score outside [0, 1] is a score error.
 */
export function mastraScorer(id: string, scorer: MastraScorer): Scorer {
  return {
    id,
    description: scorer.description ? `Mastra scorer: ${scorer.description}` : `Mastra scorer '${scorer.id}'`,
    async score({ input, output, groundTruth }) {
      const result = await scorer.run({ input, output, groundTruth });
      if (result.notScorable !== undefined || typeof result.score !== 'number')
        throw new Error(
          `Mastra scorer '${scorer.id}' did not score this output${result.notScorable !== undefined ? `: not scorable (${reasonText(result.notScorable)})` : ''}`,
        );
      return { score: result.score, reason: reasonText(result.reason) };
    },
  };
}
