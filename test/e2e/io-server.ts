import { join } from 'node:path';
import { Driver, freePort, runAssay, type Server, startServer, tempDir } from '@assay/testkit';
import { expected } from '../../packages/core/test/io/fixtures.js';

/** A server for the import/export round trips, and the CLI and SDK pointed at it. */
export interface IoServer {
  /** The temporary folder: the server's data, and where the CLI runs (its files are relative to it). */
  dir: string;
  server: Server;
  d: Driver;
  /** Runs `assay <args>` in {@link dir} against the server (30 s at most). */
  cli(...args: string[]): ReturnType<typeof runAssay>;
  /** A dataset's items as import gives them (no ids, null fields left out), in order. */
  itemsOf(datasetId: string): Promise<ReturnType<typeof expected>[]>;
}

/**
 * Starts `assay serve --no-worker` with its data in a fresh temporary folder (`prefix`), for the
 * CLI's and the UI's import/export round trips; `killAllChildren` and `removeTempDirs` end it.
 */
export async function startIoServer(prefix: string): Promise<IoServer> {
  const dir = tempDir(prefix);
  const server = await startServer(await freePort(), ['--data-dir', join(dir, 'data'), '--no-worker'], { cwd: dir });
  const d = new Driver(server);
  return {
    dir,
    server,
    d,
    cli: (...args) => runAssay(args, { cwd: dir, env: { ASSAY_URL: server.base }, ms: 30_000 }),
    async itemsOf(datasetId) {
      const out: ReturnType<typeof expected>[] = [];
      for await (const it of d.iterateItems(datasetId)) out.push(expected(it));
      return out;
    },
  };
}
