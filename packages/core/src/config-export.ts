/**
 * The config a module exports with `export default`. A TypeScript config in a project without
 * `"type": "module"` is CommonJS to Node: tsx compiles it so, and `import()` then gives
 * `{ default: module.exports }`, whose own `default` is the config.
 */
export function configExport(mod: { default?: unknown }): unknown {
  const d = mod.default as { __esModule?: unknown; default?: unknown } | null | undefined;
  if (d !== null && typeof d === 'object' && d.__esModule === true && d.default !== undefined) return d.default;
  return d;
}
