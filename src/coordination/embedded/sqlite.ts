/**
 * The state database of the embedded default (no REDIS_URL): one SQLite file in the state
 * directory, named after the jobs file, shared by every iamwatch process that uses that file on
 * this machine. Opened with better-sqlite3 (synchronous), WAL and a busy timeout, its schema
 * created or checked (schema.ts). Only the part of better-sqlite3's API iamwatch uses is typed here.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { errorMessage, IamwatchError } from '../../base/errors.js';
import { MIGRATIONS, SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';

export interface Statement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface Database {
  readonly open: boolean;
  prepare(sql: string): Statement;
  exec(sql: string): void;
  pragma(sql: string, options?: { simple: boolean }): unknown;
  /** Wraps `fn` in a transaction; `.immediate` starts it with BEGIN IMMEDIATE (the write lock at once). */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): { immediate(...args: A): R };
  close(): void;
}

type DatabaseConstructor = new (file: string, options?: { timeout?: number }) => Database;

/**
 * How long a statement waits for another process's write transaction before failing. Every
 * transaction is a few statements long, so waiting at all means heavy contention; the wait blocks
 * this process's event loop (the driver is synchronous), hence short.
 */
export const BUSY_TIMEOUT_MS = 2_000;

const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');

/** The state database of a jobs file in a state directory: `<dir>/<jobs file name>.sqlite`. */
export function stateDatabaseFile(stateDir: string, jobsFile: string): string {
  return path.join(stateDir, `${safe(path.basename(jobsFile))}.sqlite`);
}

/**
 * Creates the schema in a new database, or brings an older one up to date one version at a time
 * (schema.ts MIGRATIONS), in one transaction; refuses one written by a newer iamwatch.
 */
function migrate(db: Database, file: string): void {
  db.transaction(() => {
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version > SCHEMA_VERSION) {
      throw new IamwatchError('UNAVAILABLE', `the state database ${file} has schema version ${version}, newer than this iamwatch (${SCHEMA_VERSION}): upgrade iamwatch, or set IAMWATCH_STATE_DIR to another directory`);
    }
    if (version === SCHEMA_VERSION) return;
    if (version === 0) db.exec(SCHEMA_SQL);
    else for (let v = version + 1; v <= SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] ?? '');
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

const isBusy = (err: unknown): boolean => String((err as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY');

/** Blocks this thread for `ms` (only while opening, before anything is scheduled). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** One attempt: the connection, WAL, and the schema. */
function openOnce(file: string): Database {
  const Sqlite = createRequire(import.meta.url)('better-sqlite3') as DatabaseConstructor;
  const db = new Sqlite(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL survives a crash of any process; only an OS crash or power loss can lose
    // the last transactions (like Redis without fsync). Fences and generations still never go
    // back: they follow the clock.
    db.pragma('synchronous = NORMAL');
    migrate(db, file);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Opens (creating it and its directory if needed) a state database; `:memory:` for a private one.
 *
 * Processes that start together race to create the file and switch it to WAL. SQLite settles
 * such a race by failing one side at once with SQLITE_BUSY (its busy timeout does not apply to a
 * lock upgrade that would deadlock), so a busy open is tried again, after a short random pause,
 * until BUSY_TIMEOUT_MS have passed.
 */
export function openStateDatabase(file: string): Database {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
      return openOnce(file);
    } catch (err) {
      if (err instanceof IamwatchError) throw err;
      if (isBusy(err) && Date.now() < deadline) {
        pause(10 + Math.random() * 40);
        continue;
      }
      const hint = isBusy(err) ? `other processes kept it locked for over ${BUSY_TIMEOUT_MS} ms; try again` : 'make its directory writable, or set IAMWATCH_STATE_DIR to a writable directory';
      throw new IamwatchError('UNAVAILABLE', `cannot open the state database ${file}: ${errorMessage(err)}; ${hint}`);
    }
  }
}
