/**
 * How many lost claims (see `ClaimedItem.lostClaims`) make an item a suspect that runs alone in
 * its process, and how many fail it without running it again.
 */
export const ISOLATE_AFTER_LOST_CLAIMS = 2;
export const FAIL_AFTER_LOST_CLAIMS = 3;

/**
 * One per worker process: items run "shared" (any number at once); an item suspected of taking
 * its worker down runs "exclusive" — alone in the process, after the items in flight have
 * finished — so that if the process dies while it runs, the loss is its own and no other item is
 * counted. Suspects are rare (they exist only after crashes), so the shared path is a counter.
 */
export class IsolationGate {
  private shared = 0;
  private exclusive = false;
  private readonly exclusiveWaiters: (() => void)[] = [];
  private readonly sharedWaiters: (() => void)[] = [];

  /** Enters as one of many: at once (undefined) unless an isolated item runs or waits to. */
  enterShared(): Promise<void> | undefined {
    if (!this.exclusive && this.exclusiveWaiters.length === 0) {
      this.shared++;
      return undefined;
    }
    return new Promise((resolve) =>
      this.sharedWaiters.push(() => {
        this.shared++;
        resolve();
      }),
    );
  }

  leaveShared(): void {
    this.shared--;
    this.wake();
  }

  /** Enters alone: once nothing else runs; shared entries wait meanwhile. */
  enterExclusive(): Promise<void> {
    return new Promise((resolve) => {
      this.exclusiveWaiters.push(() => {
        this.exclusive = true;
        resolve();
      });
      this.wake();
    });
  }

  leaveExclusive(): void {
    this.exclusive = false;
    this.wake();
  }

  private wake(): void {
    if (this.exclusive) return;
    if (this.exclusiveWaiters.length > 0) {
      if (this.shared === 0) this.exclusiveWaiters.shift()!();
      return;
    }
    for (const enter of this.sharedWaiters.splice(0)) enter();
  }
}
