/**
 * The browser-safe part of core: the API contract (`@assay/contract`: every route's schemas and
 * types, the route table, the OpenAPI generator), re-exported for the server and the UI (no Node
 * built-ins, no engine). Import as `@assay/core/api`.
 */
export * from '@assay/contract';
