import { createInterface } from 'node:readline';
import type { AssayClient, Run, RunProgress } from '@assay/client';
import { note, statusColor } from './output.js';
import { progressBar, RateMeter } from './progress.js';

export type InterruptAction = 'ask' | 'cancel' | 'detach';

export interface WatchOptions {
  /** A live progress bar (`--watch`); otherwise one line per status change. */
  bar: boolean;
  /** What Ctrl-C does: ask (on a terminal; detach otherwise), cancel the run, or detach. */
  onInterrupt: InterruptAction;
  /** Local mode: a detached run pauses until a worker runs on the data directory again. */
  local: boolean;
}

export type WatchOutcome = { run: Run; detached: false } | { run: null; detached: true };

function ask(question: string): Promise<'cancel' | 'detach' | 'watch'> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const done = (answer: 'cancel' | 'detach' | 'watch') => {
      rl.close();
      resolve(answer);
    };
    rl.on('SIGINT', () => done('detach')); // Ctrl-C again: leave
    rl.question(question, (a) => {
      const c = a.trim().toLowerCase()[0];
      done(c === 'c' ? 'cancel' : c === 'd' ? 'detach' : 'watch');
    });
  });
}

/**
 * Follows a run to its end, showing progress (done/total, failed, items/s, ETA). Ctrl-C asks
 * whether to cancel the run or detach from it; a second Ctrl-C detaches at once.
 */
export async function watchRun(
  client: AssayClient,
  datasetId: string,
  runId: string,
  opts: WatchOptions,
): Promise<WatchOutcome> {
  const stop = new AbortController();
  const meter = new RateMeter();
  const bar = opts.bar
    ? progressBar({
        tty: '{bar} {value}/{total} | failed {failed} | {rate} items/s | ETA {left} | {status}',
        plain: 'run {runId} {status}: {value}/{total} done | failed {failed} | {rate} items/s | ETA {left}',
      })
    : null;
  let barOn = false;
  let lastStatus = '';
  let last: RunProgress | undefined;
  let detached = false;
  let interrupting = false;

  const show = (p: RunProgress) => {
    last = p;
    meter.add(p.done);
    if (p.status !== lastStatus && !barOn) note(`run ${runId} ${statusColor(p.status)}`);
    lastStatus = p.status;
    if (!bar || interrupting) return;
    const payload = {
      runId,
      status: p.status,
      failed: p.failed,
      rate: meter.rate.toFixed(1),
      left: meter.eta(p.total - p.done),
    };
    if (!barOn) {
      bar.start(p.total, p.done, payload);
      barOn = true;
    } else {
      bar.setTotal(p.total);
      bar.update(p.done, payload);
    }
  };
  const pauseBar = () => {
    if (barOn) bar?.stop();
    barOn = false;
  };
  const detach = () => {
    detached = true;
    stop.abort(new Error('detached'));
  };

  const onSigint = async () => {
    if (interrupting || detached) return detach();
    interrupting = true;
    try {
      let action: InterruptAction | 'watch' = opts.onInterrupt;
      if (action === 'ask') {
        if (!process.stdin.isTTY) action = 'detach';
        else {
          pauseBar();
          action = await ask(
            `\nRun ${runId} is still going. [c]ancel it, [d]etach (it keeps going), or keep [w]atching? (w) `,
          );
        }
      }
      if (action === 'detach') return detach();
      if (action === 'cancel') {
        pauseBar();
        note(`cancelling run ${runId}…`);
        await client.cancelRun(datasetId, runId).catch((e) => note(`could not cancel: ${(e as Error).message}`));
      }
    } finally {
      interrupting = false;
    }
    if (last) show(last);
  };
  const handler = () => void onSigint();
  process.on('SIGINT', handler);
  try {
    const run = await client.waitForRun(datasetId, runId, {
      signal: stop.signal,
      onProgress: show,
      onReconnect: ({ attempt, delayMs, error }) => {
        if (attempt === 1) {
          pauseBar();
          note(
            `lost the connection (${(error as Error)?.message ?? error}); reconnecting every ${delayMs} ms or more…`,
          );
        }
      },
    });
    pauseBar();
    return { run, detached: false };
  } catch (e) {
    pauseBar();
    if (detached) {
      note(
        opts.local
          ? `detached: run ${runId} stays in the data directory and resumes when a worker runs there again (\`assay serve\`, or \`assay runs watch ${runId}\`).`
          : `detached: run ${runId} keeps going on the server; \`assay runs watch ${runId}\` follows it again.`,
      );
      return { run: null, detached: true };
    }
    throw e;
  } finally {
    process.off('SIGINT', handler);
  }
}
