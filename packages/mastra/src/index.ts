import { AssayError, type Scorer, type Target } from '@assay/core';
import { type AgentTargetOptions, agentTarget } from './agent.js';
import type { MastraAgent, MastraLike, MastraScorer, MastraWorkflow } from './mastra-types.js';
import { mastraScorer } from './scorer.js';
import { workflowTarget } from './workflow.js';

export type { AgentFullOutput, AgentOutput, AgentTargetOptions, AgentToolCall } from './agent.js';
export { agentTarget, generateArgs } from './agent.js';
export type * from './mastra-types.js';
export { mastraScorer } from './scorer.js';
export { type WorkflowRunInput, workflowArgs, workflowOutcome, workflowTarget } from './workflow.js';

export interface FromMastraOptions extends AgentTargetOptions {
  /** Registration keys of the agents to expose (as in `mastra.getAgent(key)`). Default: all. */
  agents?: string[];
  /** Registration keys of the workflows. Default: all. */
  workflows?: string[];
  /** Registration keys of the scorers. Default: all. */
  scorers?: string[];
}

function pick<T>(what: string, all: Record<string, T> | undefined, keys: string[] | undefined): [string, T][] {
  const registered = all ?? {};
  if (keys === undefined) return Object.entries(registered);
  return keys.map((k) => {
    const v = registered[k];
    if (v === undefined)
      throw new AssayError(
        'INVALID_CONFIG',
        `the Mastra instance has no ${what} '${k}' (registered: ${Object.keys(registered).join(', ') || 'none'})`,
      );
    return [k, v];
  });
}

/**
 * A Mastra instance's agents and workflows as Assay targets and its scorers as Assay scorers,
 * under their registration keys, for an Assay config.
 * @example export default defineConfig(fromMastra(mastra, { agents: ['support'], generateOptions: { maxSteps: 5 } }))
 */
export function fromMastra(mastra: MastraLike, opts: FromMastraOptions = {}): { targets: Target[]; scorers: Scorer[] } {
  const agents = mastra.listAgents?.() ?? mastra.getAgents?.();
  const workflows = mastra.listWorkflows?.() ?? mastra.getWorkflows?.();
  const scorers = mastra.listScorers?.() ?? mastra.getScorers?.();
  const { agents: agentKeys, workflows: workflowKeys, scorers: scorerKeys, ...agentOptions } = opts;
  return {
    targets: [
      ...pick<MastraAgent>('agent', agents, agentKeys).map(([k, a]) => agentTarget(k, a, agentOptions)),
      ...pick<MastraWorkflow>('workflow', workflows, workflowKeys).map(([k, w]) => workflowTarget(k, w)),
    ],
    scorers: pick<MastraScorer>('scorer', scorers, scorerKeys).map(([k, s]) => mastraScorer(k, s)),
  };
}
export {
  type AssayDatasetsClient,
  type ImportedDataset,
  importMastraDatasets,
  MASTRA_DATASET_KEY,
  type MastraDatasets,
} from './import-datasets.js';
