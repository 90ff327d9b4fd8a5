import { z } from 'zod';
import { runSchema, runStatusSchema } from './runs.js';

/** Live events of one run, as the bus carries them and `GET …/runs/:runId/events` sends them. */
export const runCancelEventSchema = z.object({
  type: z.literal('run.cancel'),
  runId: z.string(),
  datasetId: z.string(),
});
export const runStatusEventSchema = z.object({
  type: z.literal('run.status'),
  runId: z.string(),
  datasetId: z.string(),
  status: runStatusSchema,
  error: z.string().nullish(),
});
export const runProgressEventSchema = z.object({
  type: z.literal('run.progress'),
  runId: z.string(),
  datasetId: z.string(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  total: z.number().int(),
});
export const runEventSchema = z.discriminatedUnion('type', [
  runCancelEventSchema,
  runStatusEventSchema,
  runProgressEventSchema,
]);
export type RunEventMessage = z.infer<typeof runEventSchema>;

/**
 * One Server-Sent Event of the events route: its `event:` name and its JSON `data`. First `run`
 * (the full current state), then the run's events; `ping` (data `{}`) every 15 s of silence.
 */
export const sseMessageSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('run'), data: runSchema }),
  z.object({ event: z.literal('run.cancel'), data: runCancelEventSchema }),
  z.object({ event: z.literal('run.status'), data: runStatusEventSchema }),
  z.object({ event: z.literal('run.progress'), data: runProgressEventSchema }),
  z.object({ event: z.literal('ping'), data: z.object({}) }),
]);
export type SseMessage = z.infer<typeof sseMessageSchema>;

/**
 * One event of the SDK's `streamRun`. After every (re)connect the first event is `run`, the full
 * current state, so a consumer is never behind after a reconnect.
 */
export type RunStreamEvent = { type: 'run'; run: z.infer<typeof runSchema> } | RunEventMessage;
