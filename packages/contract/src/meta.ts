import { z } from 'zod';
import { scorerKindSchema } from './compare.js';

/** `GET /health` (needs no API key): 200 while the storage answers, else 503. */
export const healthSchema = z.object({
  status: z.literal('ok'),
  storage: z.string().optional(),
  queue: z.string().optional(),
  worker: z.boolean().optional(),
  version: z.string().optional(),
  targets: z.number().int(),
  scorers: z.number().int(),
});
export type Health = z.infer<typeof healthSchema>;

/** The 503 of `GET /health`: the storage cannot be used, and why. */
export const healthUnavailableSchema = healthSchema.extend({
  status: z.literal('unavailable'),
  storage: z.literal('unavailable'),
  dialect: z.string().optional(),
  reason: z.string(),
  since: z.string(),
});
export type HealthUnavailable = z.infer<typeof healthUnavailableSchema>;

/**
 * `GET /ready` (needs no API key), the readiness probe: 200 when the storage and the queue
 * answer; otherwise a 503 `NOT_READY` error whose details name what does not, and why.
 */
export const readySchema = z.object({
  status: z.literal('ready'),
  /** The storage dialect: `sqlite` or `postgres`. */
  storage: z.string(),
  /** The queue: `sqlite` (embedded) or `bullmq`; null when this server has none. */
  queue: z.string().nullable(),
});
export type Ready = z.infer<typeof readySchema>;

export const targetInfoSchema = z.object({
  id: z.string(),
  type: z.string(),
  /** `function` (code in the config), `http` or `model`. */
  kind: z.enum(['function', 'http', 'model']),
  description: z.string().nullable(),
  maxConcurrency: z.number().int().nullable(),
  /** Declared targets: method and URL (http), model and price (model). Never headers. */
  details: z.record(z.string(), z.unknown()).optional(),
});
export type TargetInfo = z.infer<typeof targetInfoSchema>;
export const targetListSchema = z.object({ targets: z.array(targetInfoSchema) });

export const scorerInfoSchema = z.object({
  id: z.string(),
  description: z.string().nullable(),
  builtIn: z.boolean(),
  /** The built-in a configured `{ id, use, options }` scorer is made of. */
  use: z.string().optional(),
  /** What it measures: `latency` and `cost` scorers do not decide a comparison by default. Default `quality`. */
  kind: scorerKindSchema.optional(),
});
export type ScorerInfo = z.infer<typeof scorerInfoSchema>;
export const scorerListSchema = z.object({ scorers: z.array(scorerInfoSchema) });

/** `GET /openapi.json`: an OpenAPI 3.1 document of every route, generated from these schemas. */
export const openApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.object({}).loose(),
  paths: z.record(z.string(), z.unknown()),
});
