/**
 * The parts of Mastra's API this package calls, as structural types read from @mastra/core 1.71.0
 * (dist/agent/agent.d.ts, dist/workflows/workflow.d.ts, dist/evals/base.d.ts, dist/mastra/index.d.ts),
 * so `@assay/mastra` type-checks and builds without @mastra/core installed, and a user's `Mastra`
 * instance (any 1.x) is accepted as it is.
 */

/** An agent's tool call as `generate` reports it: Mastra's chunk (`payload`) or AI SDK's shape. */
export interface MastraToolCall {
  type?: string;
  payload?: { toolCallId?: string; toolName?: string; args?: unknown };
  toolCallId?: string;
  toolName?: string;
  args?: unknown;
  input?: unknown;
}

export interface MastraUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
}

/** What `agent.generate` resolves to (`FullOutput` in stream/base/output.d.ts), the fields we read. */
export interface MastraGenerateResult {
  text: string;
  /** The structured output, when the call asked for one (`structuredOutput`). */
  object?: unknown;
  /** Token usage for the last step (1.71.0 reports the total here too). */
  usage?: MastraUsage;
  /** Token usage across all steps. */
  totalUsage?: MastraUsage;
  toolCalls?: MastraToolCall[];
  toolResults?: unknown[];
  finishReason?: string;
  error?: unknown;
  tripwire?: { reason?: string } | undefined;
  /** Set when the Mastra instance has observability configured. */
  traceId?: string;
  runId?: string;
}

export interface MastraAgent {
  id: string;
  name?: string;
  getDescription?(): string;
  generate(messages: unknown, options?: Record<string, unknown>): Promise<MastraGenerateResult>;
}

/** A step's result inside a workflow result (`StepResult` in workflows/types.d.ts). */
export interface MastraStepResult {
  status: string;
  output?: unknown;
  error?: unknown;
  suspendPayload?: unknown;
}

/** What `run.start` and `run.resume` resolve to (`WorkflowResult` in workflows/types.d.ts). */
export interface MastraWorkflowResult {
  status: string;
  result?: unknown;
  error?: unknown;
  steps?: Record<string, MastraStepResult>;
  /** Paths of the suspended steps, e.g. `[['approve']]`. */
  suspended?: string[][];
  suspendPayload?: unknown;
  tripwire?: { reason?: string };
  traceId?: string;
  runId?: string;
}

export interface MastraWorkflowRun {
  runId?: string;
  start(args: { inputData?: unknown; initialState?: unknown }): Promise<MastraWorkflowResult>;
  resume(args: { resumeData?: unknown; step?: string | string[] }): Promise<MastraWorkflowResult>;
  /** Aborts the run's controller (the `abortSignal` every step gets) and marks it 'canceled' in storage. */
  cancel?(): Promise<void>;
}

export interface MastraWorkflow {
  id: string;
  description?: string;
  /** 1.x: async, and the way to start a run. */
  createRun?(options?: { runId?: string }): Promise<MastraWorkflowRun> | MastraWorkflowRun;
  /** Before 1.0 (and deprecated aliases): the async variant. */
  createRunAsync?(options?: { runId?: string }): Promise<MastraWorkflowRun>;
}

/** What a `createScorer(...)` pipeline's `run` resolves to (`ScorerRunResult` in evals/base.d.ts). */
export interface MastraScorerResult {
  score?: number;
  reason?: unknown;
  notScorable?: unknown;
  /** Per prompt step (`generateScore`, …): each judge call's tokens, and a cost Mastra may give. */
  judge?: Partial<
    Record<
      string,
      {
        executions?: {
          usage?: { inputTokens?: number; outputTokens?: number };
          cost?: { amount?: number; unit?: string };
        }[];
      }
    >
  >;
}

export interface MastraScorer {
  id: string;
  name?: string;
  description?: string;
  run(input: { input?: unknown; output: unknown; groundTruth?: unknown }): Promise<MastraScorerResult>;
}

/** A `Mastra` instance: `listX()` in 1.x, `getX()` before; `getX(key)` by registration key. */
export interface MastraLike {
  listAgents?(): Record<string, MastraAgent>;
  getAgents?(): Record<string, MastraAgent>;
  listWorkflows?(): Record<string, MastraWorkflow>;
  getWorkflows?(): Record<string, MastraWorkflow>;
  listScorers?(): Record<string, MastraScorer> | undefined;
  getScorers?(): Record<string, MastraScorer> | undefined;
}
