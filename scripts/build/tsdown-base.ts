/**
 * The one build recipe of every publishable package: ES modules for Node 20 with declaration
 * files (`dist/*.js` + `dist/*.d.ts`), source maps, and the package's dependencies left as imports.
 * Each package's tsdown.config.ts names its entries (one per `exports` subpath).
 */
import { defineConfig, type UserConfig } from 'tsdown';

export function library(entry: Record<string, string>, extra: UserConfig = {}): UserConfig {
  return defineConfig({
    entry,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    dts: true,
    sourcemap: true,
    fixedExtension: false,
    hash: false,
    clean: true,
    tsconfig: '../../tsconfig.build.json',
    ...extra,
  });
}
