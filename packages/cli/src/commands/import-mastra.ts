import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importMastraDatasets, type MastraDatasets } from '@assay/mastra';
import type { Command } from 'commander';
import { CliError } from '../load-config.js';
import { isTypeScript, registerTypeScript } from '../typescript.js';
import { usageExits } from './exit.js';
import { connect, connectionOptions } from './session.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** The Mastra instance a user's module exports (named, or the default export), with its datasets API. */
async function loadMastra(file: string, exportName: string): Promise<{ datasets: MastraDatasets }> {
  const path = resolve(file);
  if (!existsSync(path)) throw new CliError(`--module ${path} not found`);
  if (isTypeScript(path)) await registerTypeScript();
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(path).href);
  } catch (e) {
    throw new CliError(`could not load ${path}: ${e instanceof Error ? e.message : e}`);
  }
  const mastra = (mod[exportName] ?? (exportName === 'mastra' ? mod.default : undefined)) as
    | { datasets?: MastraDatasets }
    | undefined;
  if (!mastra || typeof mastra.datasets?.list !== 'function') {
    const names = Object.keys(mod).join(', ') || 'none';
    throw new CliError(
      `${path} has no export '${exportName}' that is a Mastra instance with datasets (its exports: ${names}); name it with --export`,
    );
  }
  return mastra as { datasets: MastraDatasets };
}

/** `assay import mastra`: a Mastra instance's datasets into Assay (docs/mastra.md). */
export function registerImportCommands(program: Command): void {
  const imp = program.command('import').description('import datasets from another tool');
  connectionOptions(
    imp
      .command('mastra')
      .description(
        "import the datasets of a Mastra instance through Mastra's own datasets API (whatever storage it is configured with); a rerun imports only what changed",
      )
      .requiredOption('--module <file>', 'the module that exports your Mastra instance, e.g. src/mastra/index.ts')
      .option('--export <name>', 'the name it is exported under (default: mastra, else the default export)', 'mastra')
      .option('--dataset <id>', 'only this Mastra dataset id; repeat for several', collect),
  ).action(async (opts) => {
    const mastra = await loadMastra(opts.module, opts.export);
    const session = await connect(opts);
    try {
      const report = await importMastraDatasets(mastra.datasets, session.client, { ids: opts.dataset });
      if (opts.json) {
        console.log(JSON.stringify({ datasets: report }, null, 2));
        return;
      }
      if (report.length === 0) console.log(`no Mastra datasets to import (into ${session.where})`);
      for (const d of report)
        console.log(
          `${d.name} (${d.assayId}): ${d.created ? 'created' : 'updated'} · ${d.added} added, ${d.updated} updated, ${d.deleted} deleted, ${d.unchanged} unchanged`,
        );
    } finally {
      await session.close();
    }
  });
  usageExits(imp);
}
