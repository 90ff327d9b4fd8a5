import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AssayConfig, configExport, validateConfig } from '@assay/core';
import { isTypeScript, registerTypeScript } from './typescript.js';

export const CONFIG_NAMES = ['assay.config.ts', 'assay.config.mjs', 'assay.config.js'];

export class CliError extends Error {}

/**
 * Loads `--config FILE`, or the first `assay.config.{ts,mjs,js}` in `cwd`. Returns an empty
 * config (built-in scorers, no targets) when there is none and none was asked for.
 */
export async function loadConfig(
  file: string | undefined,
  cwd = process.cwd(),
): Promise<{ config: AssayConfig; path: string | null }> {
  let path: string | null = null;
  if (file) {
    path = resolve(cwd, file);
    if (!existsSync(path)) throw new CliError(`config file not found: ${path}`);
  } else {
    path = CONFIG_NAMES.map((n) => resolve(cwd, n)).find((p) => existsSync(p)) ?? null;
    if (!path) return { config: { targets: [] }, path: null };
  }
  let mod: { default?: unknown };
  try {
    if (isTypeScript(path)) await registerTypeScript();
    mod = await import(pathToFileURL(path).href);
  } catch (e) {
    throw new CliError(`could not load config ${path}: ${e instanceof Error ? e.message : e}`);
  }
  const exported = configExport(mod);
  if (exported === undefined)
    throw new CliError(`config ${path} has no default export; export default { targets, scorers }`);
  try {
    return { config: validateConfig(exported, path), path };
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
}
