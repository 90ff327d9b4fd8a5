import { type OpenApiDocument, openApiDocument } from '@assay/core/api';

let cached: { version: string; doc: OpenApiDocument } | undefined;

/** `GET /api/openapi.json`: the contract's OpenAPI 3.1 document, built once per version. */
export function openApi(info: { version: string }): OpenApiDocument {
  if (cached?.version !== info.version) cached = { version: info.version, doc: openApiDocument(info) };
  return cached.doc;
}
