/**
 * The service probes plus their vitest wrapper, for test files (kept apart so scripts can import
 * `./services` without vitest).
 */
import { afterAll, afterEach, describe, it } from 'vitest';
import { removeTempDirs } from './files.js';
import { killAllChildren } from './process.js';
import { type ServiceCheck, servicesRequired } from './services.js';

export * from './services.js';

/**
 * `describe` when the service is up. When it is down: `describe.skip` plus one console.warn, or,
 * under `ASSAY_REQUIRE_SERVICES=1`, a suite whose only test fails with the reason.
 *
 * @example
 * describeWithService(await pgAvailable())('PostgreSQL adapter', () => { ... });
 */
export function describeWithService(check: ServiceCheck): (name: string, fn: () => void) => void {
  if (check.available) return (name, fn) => describe(name, fn);
  const { service, reason } = check;
  if (servicesRequired()) {
    return (name) =>
      describe(name, () => {
        it(`needs ${service}`, () => {
          throw new Error(`${service} is required (ASSAY_REQUIRE_SERVICES=1) but unavailable: ${reason}`);
        });
      });
  }
  return (name, fn) => {
    console.warn(`[skip] ${name}: ${service} unavailable (${reason}); set ASSAY_REQUIRE_SERVICES=1 to fail instead`);
    describe.skip(name, fn);
  };
}

/**
 * Registers a test file's clean-up of what the testkit started: every child process group killed
 * and every temp folder removed after the file, and with `afterEach` the processes also after each
 * test. `also` runs after the processes are gone (drop a database, stop a redis-server).
 *
 * @example
 * cleanUpProcesses({ afterEach: true });
 */
export function cleanUpProcesses(opts: { afterEach?: boolean; also?: () => Promise<void> | void } = {}): void {
  if (opts.afterEach) afterEach(killAllChildren);
  afterAll(async () => {
    await killAllChildren();
    await opts.also?.();
    removeTempDirs();
  });
}
