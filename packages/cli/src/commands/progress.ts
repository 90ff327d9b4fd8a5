import cliProgress from 'cli-progress';
import { duration } from './output.js';

/** Items per second over the last `windowMs`, so the rate (and the ETA) follow the present pace. */
export class RateMeter {
  private samples: { t: number; n: number }[] = [];
  constructor(private readonly windowMs = 10_000) {}
  add(n: number, t = Date.now()): void {
    this.samples.push({ t, n });
    while (this.samples.length > 2 && t - this.samples[0].t > this.windowMs) this.samples.shift();
  }
  /** Per second; 0 until two samples apart in time exist. */
  get rate(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || last.t <= first.t) return 0;
    return ((last.n - first.n) * 1000) / (last.t - first.t);
  }
  eta(remaining: number): string {
    const r = this.rate;
    return remaining <= 0 ? '0s' : r > 0 ? duration(remaining / r) : '–';
  }
}

/**
 * A progress display on stderr: a live bar on a terminal; in CI logs (no TTY) a plain line every
 * two seconds and one at the end, so the log shows progress without carriage-return noise.
 */
export function progressBar(format: { tty: string; plain: string }): cliProgress.SingleBar {
  const tty = Boolean(process.stderr.isTTY);
  return new cliProgress.SingleBar(
    {
      format: tty ? format.tty : format.plain,
      stream: process.stderr,
      hideCursor: tty,
      noTTYOutput: !tty,
      notTTYSchedule: 2_000,
      fps: 8,
      barsize: 30,
      clearOnComplete: false,
      stopOnComplete: false,
      emptyOnZero: true,
    },
    cliProgress.Presets.shades_classic,
  );
}
