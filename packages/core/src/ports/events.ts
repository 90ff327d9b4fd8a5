import type { RunStatus } from '../types.js';

export type RunEvent =
  | { type: 'run.cancel'; runId: string; datasetId: string }
  | { type: 'run.status'; runId: string; datasetId: string; status: RunStatus; error?: string | null }
  | { type: 'run.progress'; runId: string; datasetId: string; succeeded: number; failed: number; total: number };

/** Live progress: an in-process emitter embedded, Redis pub/sub when scaled out. */
export interface EventBus {
  publish(event: RunEvent): void;
  subscribe(runId: string, listener: (event: RunEvent) => void): () => void;
}
