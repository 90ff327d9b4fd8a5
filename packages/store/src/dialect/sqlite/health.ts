import { accessSync, constants, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StorageHealth, StorageHealthState } from '@assay/core';
import type Database from 'better-sqlite3';

/**
 * Health of the embedded SQLite file. SQLite keeps writing to a file that was deleted or replaced
 * under it (the open descriptor still points at the old inode) and every write "succeeds", until a
 * restart finds the data gone. So the monitor compares the path's device and inode with the file it
 * opened, checks that file and folder are writable, once a second and whenever asked, and takes
 * note of the I/O and read-only errors SQLite reports. The log hears of a change once, not on every
 * failed attempt.
 */

/** SQLite result codes that mean the file cannot be used, not that one statement was wrong. */
const FAULTS = /^SQLITE_(READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB|FULL)/;

/** True for an error of better-sqlite3 that says the database file cannot be written. */
export function isStorageFault(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && FAULTS.test(code);
}

const uid = () => (typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '');
/** `EACCES: permission denied` (a Node error without its path), or `SQLITE_READONLY: …`. */
const errText = (e: unknown) => {
  const err = e as NodeJS.ErrnoException;
  const message = String(err?.message ?? e);
  if (err?.syscall) return message.split(',')[0]!;
  return err?.code && !message.startsWith(err.code) ? `${err.code}: ${message}` : message;
};
const fixFor = (path: string) =>
  `make it writable for the user running Assay${uid()} (e.g. chmod u+w ${path}, or chown it to that user), or point --data-dir (dataDir) at another folder`;

/**
 * Refuses, before opening, a database file whose folder cannot be created or written (SQLite keeps
 * its `-wal` and `-shm` files beside the database), or a file that cannot be written: the error
 * names the path, the reason and what to do.
 */
export function assertWritableDatabase(file: string): void {
  const dir = dirname(file);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new Error(`cannot create the data directory ${dir} (${errText(e)}); create it and ${fixFor(dir)}`);
  }
  // A probe file: permission bits alone do not tell (root ignores them; a read-only mount does not).
  const probe = `${file}.write-test-${process.pid}`;
  try {
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (e) {
    throw new Error(
      `the data directory ${dir} is not writable (${errText(e)}): the SQLite database ${file} and its -wal and -shm files must be created and written there; ${fixFor(dir)}`,
    );
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      accessSync(f, constants.F_OK);
    } catch {
      continue; // not there yet: SQLite creates it
    }
    try {
      accessSync(f, constants.R_OK | constants.W_OK);
    } catch (e) {
      throw new Error(`the database file ${f} is not writable (${errText(e)}); ${fixFor(f)}`);
    }
  }
}

/** The message for a database SQLite opened read-only, naming the path and the fix. */
export function readonlyDatabaseError(file: string, cause: unknown): Error {
  return new Error(
    `the SQLite database ${file} cannot be written (${errText(cause)}); ${fixFor(`${file} and its folder ${dirname(file)}`)}`,
    { cause },
  );
}

export interface SqliteHealthOptions {
  /** How often the file is checked in the background, in ms. Default 1 000. */
  intervalMs?: number;
  /** Where a change of state is reported (once per change). Default console.error. */
  log?: (message: string) => void;
}

/** The {@link StorageHealth} of one open SQLite file. */
export class SqliteHealth implements StorageHealth {
  readonly checksWrites = true;
  private readonly identity: { dev: number; ino: number };
  private state: StorageHealthState = { ok: true };
  /** The last storage fault SQLite reported; cleared by a successful write probe. */
  private fault: string | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly log: (message: string) => void;

  constructor(
    readonly file: string,
    private readonly raw: Database.Database,
    opts: SqliteHealthOptions = {},
  ) {
    const st = statSync(file);
    this.identity = { dev: st.dev, ino: st.ino };
    this.log = opts.log ?? ((m) => console.error(m));
    this.timer = setInterval(() => this.refresh(), opts.intervalMs ?? 1_000);
    this.timer.unref();
  }

  current(): StorageHealthState {
    return this.state;
  }

  async check(): Promise<StorageHealthState> {
    return this.refresh();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Records an error of a statement; a storage fault makes the storage unavailable until a write works again. */
  reportError(error: unknown): void {
    if (!isStorageFault(error)) return;
    this.fault = `writing ${this.file} failed (${errText(error)})`;
    this.set(this.fault);
  }

  /** Looks at the file now and updates the state. */
  refresh(): StorageHealthState {
    let reason = this.inspect();
    if (!reason && this.fault) reason = this.probe() ? null : this.fault;
    if (!reason) this.fault = null;
    this.set(reason);
    return this.state;
  }

  private inspect(): string | null {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        return `the database file ${this.file} was deleted while the server was running; what is written now would be lost, so writes are refused. Restore the file (or its backup) and restart the server`;
      }
      return `cannot look at the database file ${this.file} (${errText(e)})`;
    }
    if (st.dev !== this.identity.dev || st.ino !== this.identity.ino) {
      return `the database file ${this.file} was replaced by another file while the server was running (this process still has the old one open); restart the server to use the new file, or put the old one back`;
    }
    for (const [path, what] of [
      [this.file, 'database file'],
      [dirname(this.file), 'data directory'],
    ] as const) {
      try {
        accessSync(path, constants.W_OK);
      } catch (e) {
        return `the ${what} ${path} is no longer writable (${errText(e)}); make it writable again`;
      }
    }
    return null;
  }

  /** A real write (the header's user_version, rewritten as it is): does SQLite write again? */
  private probe(): boolean {
    if (this.raw.inTransaction) return false;
    try {
      const v = Number(this.raw.pragma('user_version', { simple: true }));
      this.raw.pragma(`user_version = ${v}`);
      return true;
    } catch {
      return false;
    }
  }

  private set(reason: string | null): void {
    if (reason === null) {
      if (!this.state.ok) this.log(`[assay] storage is available again: ${this.file}`);
      this.state = { ok: true };
      return;
    }
    if (this.state.ok || this.state.reason !== reason) {
      this.log(
        `[assay] storage unavailable: ${reason}. Writes answer 503 STORAGE_UNAVAILABLE and the worker claims nothing until it is back.`,
      );
      this.state = { ok: false, reason, since: this.state.ok ? new Date().toISOString() : this.state.since };
    }
  }
}
