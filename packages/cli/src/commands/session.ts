import { resolve } from 'node:path';
import { type AssayApiError, AssayClient } from '@assay/client';
import { type Command, Option } from 'commander';
import { loadConfig } from '../load-config.js';
import { EXIT, ExitError, exit, exitFor } from './exit.js';

/** Options every command that talks to Assay takes. */
export interface ConnectionOptions {
  url?: string;
  dataDir: string;
  config?: string;
  json?: boolean;
}

/** Adds `--url`, `--data-dir`, `--config` and `--json` to a command. */
export function connectionOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--url <url>',
        'Assay server to talk to, e.g. http://127.0.0.1:4141 (default: local data directory)',
      ).env('ASSAY_URL'),
    )
    .option('--data-dir <dir>', 'local mode: folder of the SQLite database', '.assay')
    .option('--config <file>', 'local mode: config file (default: assay.config.{ts,mjs,js} in this folder)')
    .option('--json', 'print machine-readable JSON on stdout');
}

/** A client plus how it reaches Assay: a remote server, or the embedded app in this process. */
export interface Session {
  client: AssayClient;
  /** True when the embedded app runs in this process (no `--url`). */
  local: boolean;
  /** For messages: the URL, or the data directory. */
  where: string;
  /** Local mode: the config file in use (null: none found). */
  configPath: string | null;
  close(): Promise<void>;
}

/**
 * Connects to `--url` / `ASSAY_URL`, or opens the local data directory in-process and talks to
 * it through the same client (`assay.app.fetch` as its fetch), so every command behaves the same
 * both ways. `worker: true` also executes runs in this process (only commands that wait for a
 * run ask for it: an idle `datasets list` must not pick up other processes' jobs).
 */
export async function connect(opts: ConnectionOptions, { worker = false } = {}): Promise<Session> {
  const apiKey = process.env.ASSAY_API_KEY?.trim() || undefined;
  if (opts.url) {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new ExitError(EXIT.ERROR, `assay: --url ${opts.url} is not a URL (expected e.g. http://127.0.0.1:4141)`);
    }
    return {
      client: new AssayClient({ url: url.href, apiKey }),
      local: false,
      where: url.origin,
      configPath: null,
      close: async () => {},
    };
  }
  const { createAssay } = await import('@assay/runtime');
  const { config, path } = await loadConfig(opts.config);
  const dataDir = resolve(opts.dataDir);
  const assay = await createAssay({ config, dataDir, worker });
  return {
    client: new AssayClient({ url: 'http://assay.local', fetch: assay.app.fetch }),
    local: true,
    where: dataDir,
    configPath: path,
    close: () => assay.close(),
  };
}

/**
 * The body of a command: opens a session, runs `fn`, closes the session and exits with the code
 * `fn` returns (or the one its error maps to). Every command's action goes through here.
 */
export function withSession<A extends unknown[]>(
  worker: boolean | ((...args: A) => boolean),
  fn: (session: Session, ...args: A) => Promise<number | undefined>,
) {
  return async (...args: A): Promise<void> => {
    // commander passes (...arguments, options, command)
    const opts = args.at(-2) as ConnectionOptions;
    let session: Session | undefined;
    let code: number = EXIT.OK;
    try {
      session = await connect(opts, { worker: typeof worker === 'function' ? worker(...args) : worker });
      code = (await fn(session, ...args)) ?? EXIT.OK;
    } catch (e) {
      const r = exitFor(e, (err) => hintFor(err, session));
      if (r.message) console.error(r.message);
      code = r.code;
    }
    await session?.close().catch((e) => console.error(`assay: closing the data directory: ${e}`));
    await exit(code);
  };
}

function hintFor(e: AssayApiError, session: Session | undefined): string | undefined {
  if (e.code === 'NETWORK_ERROR') return '  is `assay serve` running there? Check --url / ASSAY_URL.';
  if (e.code === 'UNAUTHORIZED') return '  set ASSAY_API_KEY to the key the server was started with.';
  if ((e.code === 'UNKNOWN_TARGET' || e.code === 'UNKNOWN_SCORER') && session?.local) {
    return `  local mode uses ${session.configPath ?? 'no config file (built-in scorers only)'}; pass --config FILE, or --url to use a server.`;
  }
  return undefined;
}
