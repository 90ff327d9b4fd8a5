import { AssayError } from './errors.js';

/** Whether the storage can be used, and if not, why. */
export type StorageHealthState = { ok: true } | { ok: false; reason: string; since: string };

/**
 * The storage's health, as the API and the embedded queue see it: the SQLite file that was opened
 * is still there and writable (it was not deleted, replaced or made read-only under the running
 * server), or the PostgreSQL server answers.
 */
export interface StorageHealth {
  /** The last known state, without any I/O (the embedded queue asks before every claim). */
  current(): StorageHealthState;
  /** Looks again now and returns the state (SQLite: a stat of the file; PostgreSQL: `select 1`). */
  check(): Promise<StorageHealthState>;
  /**
   * True when {@link check} is cheap enough to run before every write request (a stat of the
   * SQLite file). PostgreSQL's write errors speak for themselves.
   */
  readonly checksWrites: boolean;
  /** Stops the background checks. */
  close(): void;
}

/** 503 `STORAGE_UNAVAILABLE`: the database cannot be written (or reached) right now. */
export class StorageUnavailableError extends AssayError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super('STORAGE_UNAVAILABLE', `storage unavailable: ${reason}`, 503, { reason });
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}
