import { type Target, TargetError } from '@assay/core';
import type { MastraWorkflow, MastraWorkflowResult, MastraWorkflowRun } from './mastra-types.js';

/**
 * An item's input as a workflow run. Any value is the run's `inputData`, except an object with an
 * `inputData` key, the envelope `{ inputData, resumeData?, resumeStep? }`: when the run suspends,
 * it is resumed once with `resumeData` (at `resumeStep`, default the suspended step).
 */
export interface WorkflowRunInput {
  inputData: unknown;
  resumeData?: unknown;
  resumeStep?: string | string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function workflowArgs(input: unknown): WorkflowRunInput {
  if (isRecord(input) && 'inputData' in input) {
    const { inputData, resumeData, resumeStep } = input;
    if (resumeStep !== undefined && typeof resumeStep !== 'string' && !Array.isArray(resumeStep))
      throw new TargetError('resumeStep must be a step id or a path of step ids', { code: 'INVALID_INPUT' });
    return { inputData, resumeData, resumeStep: resumeStep as string | string[] | undefined };
  }
  return { inputData: input };
}

const messageOf = (e: unknown): string =>
  e instanceof Error
    ? e.message
    : isRecord(e) && typeof e.message === 'string'
      ? e.message
      : typeof e === 'string'
        ? e
        : JSON.stringify(e);

/** The ids of the failed steps of a result, in order. */
const failedSteps = (r: MastraWorkflowResult) =>
  Object.entries(r.steps ?? {})
    .filter(([, s]) => s?.status === 'failed')
    .map(([id]) => id);

/** The output of a finished run, or the error that fails the item. */
export function workflowOutcome(workflowId: string, r: MastraWorkflowResult): unknown {
  switch (r.status) {
    case 'success':
      return r.result;
    case 'failed': {
      const steps = failedSteps(r);
      const where = steps.length ? ` at step '${steps.join("', '")}'` : '';
      throw new TargetError(`workflow '${workflowId}' failed${where}: ${messageOf(r.error)}`, {
        code: 'WORKFLOW_FAILED',
        cause: r.error,
      });
    }
    case 'suspended': {
      const paths = (r.suspended ?? []).map((p) => p.join('.'));
      throw new TargetError(
        `workflow '${workflowId}' suspended at step '${paths.join("', '") || '?'}' (payload ${JSON.stringify(r.suspendPayload ?? null)}); give the item { inputData, resumeData } to resume it`,
        { code: 'WORKFLOW_SUSPENDED' },
      );
    }
    case 'tripwire':
      throw new TargetError(`workflow '${workflowId}' was stopped by a processor: ${r.tripwire?.reason ?? ''}`, {
        code: 'WORKFLOW_TRIPWIRE',
      });
    default:
      throw new TargetError(`workflow '${workflowId}' ended with status '${r.status}'`, {
        code: `WORKFLOW_${r.status.toUpperCase()}`,
      });
  }
}

async function createRun(workflow: MastraWorkflow): Promise<MastraWorkflowRun> {
  if (typeof workflow.createRun === 'function') return await workflow.createRun();
  if (typeof workflow.createRunAsync === 'function') return await workflow.createRunAsync();
  throw new TargetError(`workflow '${workflow.id}' has neither createRun nor createRunAsync`, {
    code: 'UNSUPPORTED_MASTRA',
  });
}

/**
 * A Mastra workflow as an Assay target under `id`: one workflow run per item. A succeeded item's
 * `trace` holds the Mastra run id, trace id and each step's status.
 */
export function workflowTarget(id: string, workflow: MastraWorkflow): Target {
  return {
    id,
    type: 'workflow',
    description: workflow.description ? `Mastra workflow: ${workflow.description}` : `Mastra workflow '${workflow.id}'`,
    async run(input, ctx) {
      const args = workflowArgs(input);
      const run = await createRun(workflow);
      // Mastra's `cancel()` aborts the run's controller: every running step's `abortSignal` fires,
      // and `start` resolves with status 'canceled' once the step returns.
      const cancel = () => void run.cancel?.().catch(() => {});
      ctx.signal.addEventListener('abort', cancel, { once: true });
      try {
        // Aborted while the run was being created: a listener added now never fires, so do not start.
        if (ctx.signal.aborted) throw ctx.signal.reason;
        let result = await run.start({ inputData: args.inputData });
        if (result.status === 'suspended' && args.resumeData !== undefined && !ctx.signal.aborted)
          result = await run.resume({
            resumeData: args.resumeData,
            ...(args.resumeStep !== undefined ? { step: args.resumeStep } : {}),
          });
        if (ctx.signal.aborted) throw ctx.signal.reason;
        // Beside the output: Mastra's run id and trace id, and each step's status (not its output).
        ctx.reportTrace({
          runId: result.runId ?? run.runId ?? null,
          traceId: result.traceId ?? null,
          status: result.status,
          steps: Object.fromEntries(Object.entries(result.steps ?? {}).map(([stepId, s]) => [stepId, s.status])),
        });
        return workflowOutcome(workflow.id, result);
      } finally {
        ctx.signal.removeEventListener('abort', cancel);
      }
    },
  };
}
