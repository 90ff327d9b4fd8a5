/**
 * `@assay/testkit`: what tests, the bench and the soak share. Import a subpath to take only what
 * you need (`@assay/testkit/process` in a script pulls in neither vitest nor the SDK):
 *
 * - `./services`: PostgreSQL and Redis probes, one set of environment names
 * - `./vitest`: `describeWithService` (skip locally, fail under `ASSAY_REQUIRE_SERVICES=1`)
 * - `./clock`: `ManualClock`, a core `Clock` that moves only when advanced
 * - `./process`: the real `assay` binary in its own process group, ports, waits
 * - `./files`: temp folders and config files
 * - `./db`: a local server's SQLite file, read directly
 * - `./driver`: the typed e2e driver on the SDK
 * - `./http`: a raw HTTP call for malformed requests
 * - `./browser`: Debian's headless Chromium for UI tests
 * - `./pack`: the published packages packed and installed into a fresh project
 */
export * from './browser.js';
export * from './clock.js';
export * from './db.js';
export * from './driver.js';
export * from './files.js';
export * from './http.js';
export * from './pack.js';
export * from './process.js';
export * from './services.js';
