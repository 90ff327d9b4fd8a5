import type { Scorer, Usage } from '@assay/core';
import type { MastraScorer, MastraScorerResult } from './mastra-types.js';

const reasonText = (r: unknown): string | null =>
  r === undefined || r === null ? null : typeof r === 'string' ? r : JSON.stringify(r);

const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
const plus = (a: number | null, b: number | null) => (b === null ? a : (a ?? 0) + b);

/**
 * What a scorer's judge spent, over every prompt step and every execution (retries included):
 * Mastra's `result.judge.<step>.executions[].usage` tokens, and its `cost` where it is in USD
 * (Mastra 1.71.0 declares it but never fills it). Null when the scorer has no judge step.
 */
export function judgeUsage(judge: MastraScorerResult['judge']): Usage | null {
  let inputTokens: number | null = null;
  let outputTokens: number | null = null;
  let costUsd: number | null = null;
  for (const step of Object.values(judge ?? {})) {
    for (const e of step?.executions ?? []) {
      inputTokens = plus(inputTokens, count(e.usage?.inputTokens));
      outputTokens = plus(outputTokens, count(e.usage?.outputTokens));
      if (e.cost && typeof e.cost.unit === 'string' && e.cost.unit.toUpperCase() === 'USD')
        costUsd = plus(costUsd, count(e.cost.amount));
    }
  }
  return inputTokens === null && outputTokens === null && costUsd === null
    ? null
    : { inputTokens, outputTokens, costUsd };
}

/**
 * A Mastra scorer (a `createScorer(...)` pipeline) as an Assay scorer under `id`: `run` gets the
 * item's input, the target's output and the ground truth; its score and reason are the score, and
 * what its judge spent (tokens, and cost where Mastra gives one) is stored with it.
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
      return { score: result.score, reason: reasonText(result.reason), usage: judgeUsage(result.judge) };
    },
  };
}
