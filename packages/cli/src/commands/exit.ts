import { AssayApiError } from '@assay/client';
import type { Command } from 'commander';
import { CliError } from '../load-config.js';

/** The documented exit codes of every command (see docs/cli.md). */
export const EXIT = {
  /** Done; every gate passed. */
  OK: 0,
  /** A CI gate failed (`--fail-under`, `--baseline`, `--max-failed`, `runs compare --max-regression`). */
  GATE_FAILED: 1,
  /** Usage error, or the API refused the request or could not be reached. */
  ERROR: 2,
  /** The run ended `failed` or `cancelled`. */
  RUN_FAILED: 3,
  /** Ctrl-C, then detached from a run that goes on (128 + SIGINT, as shells do). */
  INTERRUPTED: 130,
} as const;

/** Ends a command with an exit code, after printing `message` (if any) to stderr. */
export class ExitError extends Error {
  constructor(
    readonly exitCode: number,
    message = '',
  ) {
    super(message);
    this.name = 'ExitError';
  }
}

/** A mistake in how the command was called: exit 2. */
export const usage = (message: string) => new CliError(message);

function describe(error: unknown, hint?: (e: AssayApiError) => string | undefined): string {
  if (AssayApiError.is(error)) {
    const lines = [`assay: ${error.message} (${error.code}${error.status ? `, HTTP ${error.status}` : ''})`];
    const details = error.details as
      | { issues?: { path: string; message: string }[]; available?: unknown[] }
      | undefined;
    const issues = details?.issues;
    if (Array.isArray(issues)) for (const i of issues.slice(0, 10)) lines.push(`  ${i.path}: ${i.message}`);
    // An unknown target or scorer: the ones the server has, so the typo is plain to see.
    const available = details?.available;
    if (Array.isArray(available))
      lines.push(`  available: ${available.length ? available.map(String).join(', ') : 'none'}`);
    const more = hint?.(error);
    if (more) lines.push(more);
    return lines.join('\n');
  }
  if (error instanceof CliError) return `assay: ${error.message}`;
  return `assay: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}

/** Exit code and message for an error that ended a command. */
export function exitFor(
  error: unknown,
  hint?: (e: AssayApiError) => string | undefined,
): { code: number; message: string } {
  if (error instanceof ExitError) return { code: error.exitCode, message: error.message };
  return { code: EXIT.ERROR, message: describe(error, hint) };
}

/** Exits once stdout and stderr have been flushed (a piped export must not lose its tail). */
export async function exit(code: number): Promise<never> {
  await Promise.all(
    [process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => s.write('', () => resolve()))),
  );
  process.exit(code);
}

/**
 * Usage errors (missing argument, bad option value) exit 2 like every other usage error, not
 * commander's default 1, which means "gate failed" here, and print the error and one line of
 * help (the whole help after it would bury the error in a CI log). Help exits 0.
 */
export function usageExits(command: Command): Command {
  command.showHelpAfterError(`(see: assay ${commandPath(command)} --help)`);
  command.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.ERROR);
  });
  for (const sub of command.commands) usageExits(sub);
  return command;
}

/** `runs compare`: the command's words after `assay`. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
