export { type AppDeps, type AssayApp, createApp } from './app.js';
export { errorBody } from './http.js';
export { type Assay, type AssayOptions, createAssay, migrateDatabase, redactUrl, VERSION } from './runtime.js';
