/**
 * Summarizes V8 CPU profiles (`node --cpu-prof`, or `npm run bench -- --profile`), merged across
 * the given files:
 *   1. the functions with the most self time;
 *   2. the same samples charged to the innermost frame in this repository's code (packages/,
 *      bench/), so time spent inside Kysely, better-sqlite3 or Node lands on the project
 *      function that asked for it;
 *   3. inclusive time of project functions (each sample counted once per function on its stack).
 *
 *   npm run bench -- --only W1 --quick --profile
 *   node --import tsx bench/cpuprofile-top.ts bench/.tmp/profiles/W1-run1.cpuprofile [--top 30]
 *
 * Profiles written by `--profile` point at TypeScript source lines (remapped through tsx's source
 * maps); raw `--cpu-prof` profiles point at tsx's transformed code, where lines are meaningless
 * but function names are exact.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 30;
if (args.length === 0) {
  console.error('usage: bench/cpuprofile-top.ts <file.cpuprofile>... [--top N]');
  process.exit(2);
}

const nameOf = (f: ProfileNode['callFrame']) => {
  const url = f.url.startsWith('file://') ? relative(process.cwd(), new URL(f.url).pathname) : f.url;
  return `${f.functionName || '(anonymous)'}${url ? `  (${url}:${f.lineNumber + 1})` : ''}`;
};
const isProject = (f: ProfileNode['callFrame']) =>
  f.url.startsWith('file://') && !f.url.includes('/node_modules/') && /\/(packages|bench)\//.test(f.url);

const self = new Map<string, number>();
const charged = new Map<string, number>();
const inclusive = new Map<string, number>();
let totalUs = 0;
const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);

for (const file of args) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i] ?? 0;
    totalUs += us;
    const leaf = byId.get(id)!;
    add(self, nameOf(leaf.callFrame), us);
    let owner: string | null = null;
    const seen = new Set<string>();
    for (let n: ProfileNode | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) {
      if (!isProject(n.callFrame)) continue;
      const name = nameOf(n.callFrame);
      owner ??= name;
      if (!seen.has(name)) add(inclusive, name, us);
      seen.add(name);
    }
    add(charged, owner ?? `${leaf.callFrame.functionName || '(anonymous)'} [no project frame]`, us);
  });
}

const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}\n    ms       %  function  (location)`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(us / 1000).toFixed(1).padStart(7)}  ${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${k}`);
  }
};
console.log(`total sampled ${(totalUs / 1000).toFixed(0)} ms in ${args.length} profile(s)`);
print('Self time', self);
print('Self time charged to the innermost project frame', charged);
print('Inclusive time of project functions', inclusive);
