/**
 * Install size and time as a user gets them (issue 12): the publishable packages packed, each
 * scenario installed into a fresh project in the temp folder from those tarballs (third-party
 * dependencies from the registry, through npm's local cache), then `du -sb node_modules`.
 *
 *   npm run bench:install                 every scenario once (the CLI installs take about a minute)
 *   npm run bench:install -- --runs 3     medians of 3
 *
 * Scenarios: the CLI SQLite-only (every tarball; no PostgreSQL, BullMQ or AI SDK), the CLI with
 * PostgreSQL + BullMQ (`pg bullmq ioredis` too), and the SDK alone (`@assay/client` and the
 * contract it depends on). The build must be current: `npm run build`.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { duBytes, mib, newProject, npmInstall, packAll } from '@assay/testkit/pack';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(arg('--runs') ?? 1);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] ?? 0) : ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2;
};

const root = mkdtempSync(join(tmpdir(), 'assay-bench-install-'));
try {
  const packed = packAll(join(root, 'tarballs'));
  const tgz = (name: string) => packed.find((p) => p.name === name)?.tarball ?? '';
  const scenarios: { name: string; specs: string[] }[] = [
    { name: 'CLI, SQLite only', specs: packed.map((p) => p.tarball) },
    {
      name: 'CLI + PostgreSQL + BullMQ',
      specs: [...packed.map((p) => p.tarball), 'pg@8.23.1', 'bullmq@6.7.0', 'ioredis@6.0.0'],
    },
    { name: 'SDK alone', specs: [tgz('@assay/client'), tgz('@assay/contract')] },
  ];
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}; ${runs} run(s) each`);
  console.log(`tarballs: ${packed.map((p) => `${p.name} ${Math.round(p.size / 1024)} KiB`).join(', ')}`);
  console.log('\n| Install | node_modules (MiB) | Time (s) | Packages |\n| --- | --- | --- | --- |');
  for (const s of scenarios) {
    const sizes: number[] = [];
    const times: number[] = [];
    let packages = 0;
    let biggest = '';
    for (let r = 0; r < runs; r++) {
      const dir = newProject(join(root, `${s.name.replace(/\W+/g, '-')}-${r}`));
      const installed = await npmInstall(dir, s.specs);
      sizes.push(installed.bytes);
      times.push(installed.ms);
      const nm = join(dir, 'node_modules');
      const tops = readdirSync(nm).flatMap((d) =>
        d.startsWith('@') ? readdirSync(join(nm, d)).map((x) => `${d}/${x}`) : d.startsWith('.') ? [] : [d],
      );
      packages = tops.length;
      biggest = tops
        .map((t) => [t, duBytes(join(nm, t))] as const)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([t, b]) => `${t} ${mib(b)}`)
        .join(', ');
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(`| ${s.name} | ${mib(median(sizes))} | ${(median(times) / 1000).toFixed(1)} | ${packages} |`);
    console.error(`  ${s.name}: largest ${biggest} (MiB)`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
