/**
 * The browser-safe part of core: request schemas and response types shared by the server and
 * the client SDK (no Node built-ins, no engine). Import as `@assay/core/api`.
 */
export * from './schemas.js';
export * from './truncated.js';
export * from './types.js';
