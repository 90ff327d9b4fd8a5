import { z } from 'zod';
import { errorSchema, paginationSchema, truncatedSchema } from './common.js';
import { comparisonSchema, scorerStatsSchema } from './compare.js';
import { datasetSchema, datasetVersionSchema } from './datasets.js';
import { datasetItemSchema, itemInputSchema } from './items.js';
import { itemErrorSchema, listedResultSchema, runItemAttemptSchema, runResultSchema, scoreSchema } from './results.js';
import { type RouteDef, routes } from './routes.js';
import {
  runAcceptedSchema,
  runOptionsSchema,
  runSchema,
  runSummarySchema,
  scorerSummarySchema,
  usageSchema,
} from './runs.js';

/** Schemas that are components of their own (`#/components/schemas/NAME`), referenced where used. */
const NAMED_OUTPUTS: Record<string, z.ZodType> = {
  Error: errorSchema,
  Pagination: paginationSchema,
  Truncated: truncatedSchema,
  Dataset: datasetSchema,
  DatasetVersion: datasetVersionSchema,
  DatasetItem: datasetItemSchema,
  Run: runSchema,
  RunAccepted: runAcceptedSchema,
  RunOptions: runOptionsSchema,
  RunSummary: runSummarySchema,
  ScorerSummary: scorerSummarySchema,
  Usage: usageSchema,
  RunResult: runResultSchema,
  ListedResult: listedResultSchema,
  RunItemAttempt: runItemAttemptSchema,
  ItemError: itemErrorSchema,
  Score: scoreSchema,
  ScorerStats: scorerStatsSchema,
  Comparison: comparisonSchema,
};
const NAMED_INPUTS: Record<string, z.ZodType> = { ItemInput: itemInputSchema };

const pascal = (id: string) => id[0]!.toUpperCase() + id.slice(1);
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/**
 * The components of one direction (`output`: responses, `input`: request bodies), generated in
 * one pass so that a named schema inside another is a `$ref`. Returns the components and the name
 * each route's schema got.
 */
function components(io: 'input' | 'output') {
  const registry = z.registry<{ id: string }>();
  const nameOf = new Map<z.ZodType, string>();
  const add = (name: string, schema: z.ZodType) => {
    if (nameOf.has(schema)) return;
    nameOf.set(schema, name);
    registry.add(schema, { id: name });
  };
  for (const [name, schema] of Object.entries(io === 'output' ? NAMED_OUTPUTS : NAMED_INPUTS)) add(name, schema);
  for (const [id, route] of Object.entries(routes) as [string, RouteDef][]) {
    if (io === 'output') add(`${pascal(id)}Response`, route.response);
    else if (route.body) add(`${pascal(id)}Body`, route.body);
  }
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    const { $id: _i, $schema: _s, ...rest } = schema as Record<string, unknown>;
    out[name] = rest;
  }
  return { schemas: out, nameOf };
}

/** The OpenAPI 3.1 document of the API, generated from the route table (JSON Schema 2020-12). */
export type OpenApiDocument = {
  openapi: '3.1.0';
  info: { title: string; version: string; description?: string };
  servers?: { url: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, Record<string, unknown>>;
  security: Record<string, string[]>[];
  tags: { name: string }[];
};

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    // Refinements (no NUL, non-empty batches) have no JSON Schema form: the base type stands.
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
};

/** `/datasets/:id` → `/api/datasets/{id}`. */
export const openApiPath = (path: string) => `/api${path.replace(/:(\w+)/g, '{$1}')}`;

function parameters(route: RouteDef) {
  const out: Record<string, unknown>[] = [];
  const add = (where: 'path' | 'query' | 'header', schema: z.ZodObject | undefined) => {
    for (const [name, field] of Object.entries(schema?.shape ?? {})) {
      const s = jsonSchema(field as z.ZodType, 'input');
      const { description, ...fieldSchema } = s as { description?: string };
      out.push({
        name,
        in: where,
        required: where === 'path' || !(field as z.ZodType).safeParse(undefined).success,
        ...(description ? { description } : {}),
        schema: fieldSchema,
      });
    }
  };
  add('path', route.params);
  add('query', route.query);
  add('header', route.headers);
  return out;
}

type Names = Map<z.ZodType, string>;

function operation(id: string, route: RouteDef, outputs: Names, inputs: Names) {
  const schema = ref(outputs.get(route.response)!);
  const content = route.stream ? { 'text/event-stream': { schema } } : { 'application/json': { schema } };
  const responses: Record<string, unknown> = {
    [route.status]: {
      description: route.stream ? 'an event stream; each event is one of these (`event` name, JSON `data`)' : 'success',
      content,
    },
  };
  for (const [status, schema] of Object.entries(route.otherResponses ?? {})) {
    responses[status] = {
      description: 'see the body',
      content: { 'application/json': { schema: jsonSchema(schema, 'output') } },
    };
  }
  responses.default = { $ref: '#/components/responses/Error' };
  const params = parameters(route);
  return {
    operationId: id,
    summary: route.summary,
    tags: [route.tag],
    ...(route.public ? { security: [] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(route.body
      ? {
          requestBody: { required: true, content: { 'application/json': { schema: ref(inputs.get(route.body)!) } } },
        }
      : {}),
    responses,
  };
}

/**
 * Builds the document; every entry of {@link routes} is one operation.
 *
 * @example openApiDocument({ version: '0.1.0' }).paths['/api/datasets'].get.operationId // 'listDatasets'
 */
export function openApiDocument(info: { version: string; serverUrl?: string }): OpenApiDocument {
  const outputs = components('output');
  const inputs = components('input');
  const paths: OpenApiDocument['paths'] = {};
  for (const [id, route] of Object.entries(routes) as [string, RouteDef][]) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operation(id, route, outputs.nameOf, inputs.nameOf);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Assay API',
      version: info.version,
      description:
        'Datasets, runs as durable background jobs, scores and comparisons. Every error is `{ error: { code, message, details? } }`.',
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    paths,
    components: {
      schemas: { ...outputs.schemas, ...inputs.schemas },
      responses: {
        Error: {
          description: 'an error: 400, 401, 403, 404, 409, 413, 415, 500 or 503',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'the server’s ASSAY_API_KEY' } },
    },
    security: [{ apiKey: [] }],
    tags: [...new Set(Object.values(routes).map((r) => r.tag))].map((name) => ({ name })),
  };
}
