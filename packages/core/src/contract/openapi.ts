import { z } from 'zod';
import { errorSchema } from './common.js';
import { type RouteDef, routes } from './routes.js';

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

function operation(id: string, route: RouteDef) {
  const content = route.stream
    ? { 'text/event-stream': { schema: jsonSchema(route.response, 'output') } }
    : { 'application/json': { schema: jsonSchema(route.response, 'output') } };
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
          requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } },
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
  const paths: OpenApiDocument['paths'] = {};
  for (const [id, route] of Object.entries(routes) as [string, RouteDef][]) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operation(id, route);
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
      schemas: { Error: jsonSchema(errorSchema, 'output') },
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
