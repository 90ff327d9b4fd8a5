import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../load-config.js';
import { usageExits } from './exit.js';

const CONFIG_FILE = 'assay.config.ts';
const DATASET_FILE = 'assay.dataset.json';
const SCRIPTS = {
  'assay:serve': `assay serve --seed ${DATASET_FILE}`,
  'assay:run': 'assay run sample --target answer --watch',
};

const CONFIG = `// Assay's config: the targets a dataset runs through, and the scorers that grade their outputs.
// \`assay serve\` and \`assay run\` load this file; it is plain TypeScript (no build step).

/** What one item of assay.dataset.json gives your target. */
interface Question {
  question: string;
}

const CAPITALS: Record<string, string> = { France: 'Paris', Japan: 'Tokyo', Kenya: 'Nairobi', Peru: 'Lima' };

export default {
  targets: [
    {
      // A stand-in for your agent. Replace the body of run() with a call to your code, an HTTP
      // endpoint or a model; \`ctx.signal\` aborts when the run is cancelled or the item times out.
      id: 'answer',
      type: 'function',
      description: 'Answers "What is the capital of X?" from a small table (replace with your agent)',
      run: async (input: Question, ctx: { signal: AbortSignal }) => {
        ctx.signal.throwIfAborted();
        const country = /capital of (.+?)\\?*$/i.exec(input.question)?.[1] ?? '';
        return CAPITALS[country] ?? "I don't know";
      },
    },
  ],
  scorers: [
    // Built-ins need no code (\`assay scorers list\`); this one uses one under its own id and options.
    { id: 'same-answer', use: 'exact-match', options: { trim: true, ignoreCase: true } },
    {
      // A code scorer: return a number in [0, 1], or { score, reason }.
      id: 'short-answer',
      description: '1 when the answer is at most three words',
      score: ({ output }: { output: unknown }) => {
        const words = String(output).trim().split(/\\s+/).length;
        return words <= 3 ? 1 : { score: 0, reason: \`\${words} words\` };
      },
    },
  ],
};
`;

const DATASET = {
  name: 'sample',
  description: 'Five questions to try Assay with (assay init); the last one the sample target cannot answer',
  scorerIds: ['same-answer', 'short-answer'],
  items: [
    { externalId: 'france', input: { question: 'What is the capital of France?' }, groundTruth: 'Paris' },
    { externalId: 'japan', input: { question: 'What is the capital of Japan?' }, groundTruth: 'Tokyo' },
    { externalId: 'kenya', input: { question: 'What is the capital of Kenya?' }, groundTruth: 'Nairobi' },
    { externalId: 'peru', input: { question: 'What is the capital of Peru?' }, groundTruth: 'Lima' },
    { externalId: 'chile', input: { question: 'What is the capital of Chile?' }, groundTruth: 'Santiago' },
  ],
};

/**
 * `assay init`: writes a starter config, a sample dataset and two npm scripts into a project, and
 * prints the next two commands. Refuses — writing nothing — when any of them is already there.
 */
export function registerInitCommand(program: Command): void {
  const init = program
    .command('init')
    .description(`write a starter ${CONFIG_FILE}, a sample ${DATASET_FILE} and npm scripts into this project`)
    .option('--dir <dir>', 'the project folder', '.')
    .action((opts: { dir: string }) => {
      const dir = resolve(opts.dir);
      if (!existsSync(dir)) throw new CliError(`no such folder: ${dir}`);
      const pkgPath = join(dir, 'package.json');
      let pkg: { scripts?: Record<string, string> } & Record<string, unknown>;
      try {
        pkg = existsSync(pkgPath)
          ? JSON.parse(readFileSync(pkgPath, 'utf8'))
          : {
              name: basename(dir)
                .toLowerCase()
                .replace(/[^a-z0-9._-]+/g, '-'),
              private: true,
              type: 'module',
            };
      } catch (e) {
        throw new CliError(`cannot read ${pkgPath}: ${e instanceof Error ? e.message : e}`);
      }
      const present = [
        ...[CONFIG_FILE, 'assay.config.mjs', 'assay.config.js', DATASET_FILE].filter((f) => existsSync(join(dir, f))),
        ...Object.keys(SCRIPTS)
          .filter((s) => pkg.scripts?.[s] !== undefined)
          .map((s) => `package.json script "${s}"`),
      ];
      if (present.length > 0) {
        throw new CliError(
          `refusing to overwrite ${present.join(', ')} in ${dir}; move them away or edit them by hand (nothing was written)`,
        );
      }
      writeFileSync(join(dir, CONFIG_FILE), CONFIG, { flag: 'wx' });
      writeFileSync(join(dir, DATASET_FILE), `${JSON.stringify(DATASET, null, 2)}\n`, { flag: 'wx' });
      pkg.scripts = { ...pkg.scripts, ...SCRIPTS };
      writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
      console.log(`wrote ${CONFIG_FILE}, ${DATASET_FILE} and the npm scripts ${Object.keys(SCRIPTS).join(', ')}`);
      console.log('next:');
      console.log(`  npx ${SCRIPTS['assay:serve']}     # the web UI and API on http://127.0.0.1:4141`);
      console.log(`  npx ${SCRIPTS['assay:run']}   # in another shell: run the sample, live`);
    });
  usageExits(init);
}
