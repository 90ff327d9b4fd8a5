/**
 * The browser-safe part of core: the API contract (every route's schemas and types, the route
 * table, the OpenAPI generator) shared by the server, the SDK and the UI (no Node built-ins, no
 * engine). Import as `@assay/core/api`.
 */
export * from './contract/index.js';
export { hasTruncated, isTruncated, type Truncated } from './truncated.js';
