export { type AppDeps, type AssayApp, createApp } from './app.js';
export { apiKeyFrom, MIN_API_KEY_LENGTH } from './auth.js';
export { isLoopbackAddress, parseAllowedOrigins } from './guard.js';
export { errorBody } from './http.js';
export { AssayMetrics, type MetricsSources, metricsApp } from './metrics.js';
