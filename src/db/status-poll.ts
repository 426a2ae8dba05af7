/**
 * Status polling: "rows in status X: claim, process, set status Y". `pollStatus` claims a batch of
 * rows so that no two pollers (on any instance) hold the same row, runs the handler on each with
 * an AbortSignal, then sets the target status, or records the failure and retries it later.
 *
 * A claim writes a lease (epoch milliseconds on the database server's clock) into `leaseColumn`:
 * rows whose lease has passed are claimable again, so the rows of a crashed poller return to the
 * pool. Each new lease of a row is later than the last, so the lease value doubles as a fencing
 * token: a poller whose lease was taken over cannot overwrite the new owner's result.
 * Claiming uses `SELECT ... FOR UPDATE SKIP LOCKED` on MariaDB 10.6+ / MySQL 8 (plain FOR UPDATE
 * on older servers) and one atomic `UPDATE ... RETURNING` on SQLite, whose writers are serialised.
 * With `attemptsColumn`, attempts are counted at claim time, so a row that crashes its poller
 * every time is still marked `failed` after `maxAttempts`.
 */
import type { Knex } from 'knex';
import type { Logger } from '../base/logger.js';
import { dialectOf } from './dialect.js';

type Key = string | number;
type Status = string | number;
export type Row = Record<string, unknown>;

export interface HandlerContext {
  /** Aborted when the poll is aborted or the row's lease runs out. */
  signal: AbortSignal;
  /** 1 for the first try (counted only with `attemptsColumn`, else always 1). */
  attempt: number;
  /** This claim's lease (epoch ms); it is the row's fencing token. */
  lease: number;
}

export interface PollStatusOptions<R extends Row = Row> {
  table: string;
  /** Primary-key column (default `id`). */
  key?: string;
  /** Status column (default `status`). */
  statusColumn?: string;
  /** Rows in this status are waiting. */
  from: Status;
  /** Status set when the handler succeeds. */
  to: Status;
  /** Status set when a row has failed `maxAttempts` times (or at once without `attemptsColumn`). */
  failed: Status;
  /** Nullable BIGINT column holding the lease expiry in epoch ms (default `leaseUntil`). */
  leaseColumn?: string;
  /** How long a claim lasts; the handler's signal aborts when it runs out (default 60 s). */
  leaseMs?: number;
  /** Integer column counting attempts; without it a failure marks the row failed at once. */
  attemptsColumn?: string;
  /** Attempts before a row is marked failed (default 3). */
  maxAttempts?: number;
  /** Delay before a failed row is retried (default 30 s). */
  retryDelayMs?: number;
  /** Optional text column that receives the last error message. */
  errorColumn?: string;
  /** Rows claimed per claim (default 100). */
  batchSize?: number;
  /** Stop after this many batches (default: until nothing is claimable). */
  maxBatches?: number;
  signal: AbortSignal;
  log: Logger;
  /** Processes one row; a returned object holds extra column values to set with the target status. */
  handler(row: R, ctx: HandlerContext): Promise<Row | void>;
}

export interface PollResult {
  claimed: number;
  done: number;
  /** Failures that will be retried. */
  retried: number;
  /** Rows marked with the failed status. */
  failed: number;
  /** Rows whose lease was taken over before the handler finished (their result was not written). */
  lost: number;
  batches: number;
}

interface Resolved {
  table: string;
  key: string;
  status: string;
  lease: string;
  attempts?: string;
  errorColumn?: string;
  leaseMs: number;
  maxAttempts: number;
  retryDelayMs: number;
  batchSize: number;
}

/** The database server's clock in epoch milliseconds: every poller agrees on it. */
export async function serverNowMs(db: Knex): Promise<number> {
  if (dialectOf(db) === 'mysql') {
    const [rows] = (await db.raw('SELECT FLOOR(UNIX_TIMESTAMP(NOW(3)) * 1000) AS now')) as [Array<{ now: number | string }>];
    return Number(rows[0]!.now);
  }
  const rows = (await db.raw(`SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS now`)) as Array<{ now: number }>;
  return Number(rows[0]!.now);
}

const skipLockedCache = new WeakMap<Knex, boolean>();

/** MariaDB >= 10.6 and MySQL >= 8.0.1 support SKIP LOCKED. */
async function supportsSkipLocked(db: Knex): Promise<boolean> {
  const cached = skipLockedCache.get(db);
  if (cached !== undefined) return cached;
  const [rows] = (await db.raw('SELECT VERSION() AS v')) as [Array<{ v: string }>];
  const v = rows[0]!.v;
  const [major = 0, minor = 0] = v.split(/[.-]/).map(Number);
  const ok = /mariadb/i.test(v) ? major > 10 || (major === 10 && minor >= 6) : major >= 8;
  skipLockedCache.set(db, ok);
  return ok;
}

function claimable(q: Knex.QueryBuilder, r: Resolved, from: Status, now: number): Knex.QueryBuilder {
  return q.where(r.status, from).where((c) => c.whereNull(r.lease).orWhere(r.lease, '<', now));
}

/** Claims up to batchSize waiting rows; returns them as they were before the claim, and the lease. */
async function claim(db: Knex, r: Resolved, from: Status): Promise<{ rows: Row[]; lease: number }> {
  const now = await serverNowMs(db);
  const lease = now + r.leaseMs;
  const set: Record<string, unknown> = { [r.lease]: lease };
  if (r.attempts) set[r.attempts] = db.raw('?? + 1', [r.attempts]);
  if (dialectOf(db) === 'sqlite') {
    const sub = claimable(db(r.table).select(r.key), r, from, now).orderBy(r.key).limit(r.batchSize);
    const q = db(r.table).whereIn(r.key, sub).update(set).toSQL().toNative();
    const rows = (await db.raw(`${q.sql} RETURNING *`, q.bindings as readonly Knex.RawBinding[])) as Row[];
    return { rows: rows.map((row) => undo(row, r)), lease };
  }
  const skip = await supportsSkipLocked(db);
  const rows = await db.transaction(async (trx) => {
    const sel = claimable(trx(r.table).select('*'), r, from, now).orderBy(r.key).limit(r.batchSize).forUpdate();
    if (skip) sel.skipLocked();
    const found = (await sel) as Row[];
    if (found.length > 0) await trx(r.table).whereIn(r.key, found.map((row) => row[r.key] as Key)).update(set);
    return found;
  });
  return { rows, lease };
}

/** RETURNING gives the row after the claim; handlers see it as it was before. */
function undo(row: Row, r: Resolved): Row {
  const out = { ...row };
  if (r.attempts) out[r.attempts] = Number(out[r.attempts]) - 1;
  return out;
}

/** Updates one row if this poller still holds its lease; returns whether it did. */
async function settle(db: Knex, r: Resolved, key: Key, lease: number, set: Row): Promise<boolean> {
  const n = await db(r.table).where(r.key, key).where(r.lease, lease).update(set);
  return Number(n) === 1;
}

/**
 * Claims and processes waiting rows until none is claimable, `maxBatches` is reached or `signal`
 * aborts (then the rows claimed but not started are released at once and `signal.reason` is thrown).
 */
export async function pollStatus<R extends Row = Row>(db: Knex, opts: PollStatusOptions<R>): Promise<PollResult> {
  const r: Resolved = {
    table: opts.table,
    key: opts.key ?? 'id',
    status: opts.statusColumn ?? 'status',
    lease: opts.leaseColumn ?? 'leaseUntil',
    attempts: opts.attemptsColumn,
    errorColumn: opts.errorColumn,
    leaseMs: opts.leaseMs ?? 60_000,
    maxAttempts: opts.maxAttempts ?? 3,
    retryDelayMs: opts.retryDelayMs ?? 30_000,
    batchSize: opts.batchSize ?? 100,
  };
  if (!(r.leaseMs > 0) || !(r.batchSize >= 1) || !(r.maxAttempts >= 1)) throw new RangeError('pollStatus: leaseMs, batchSize and maxAttempts must be positive');
  const result: PollResult = { claimed: 0, done: 0, retried: 0, failed: 0, lost: 0, batches: 0 };
  const log = opts.log.child({ table: opts.table });

  while (opts.maxBatches === undefined || result.batches < opts.maxBatches) {
    if (opts.signal.aborted) throw opts.signal.reason;
    const { rows, lease } = await claim(db, r, opts.from);
    const claimedAt = performance.now();
    if (rows.length === 0) break;
    result.batches++;
    result.claimed += rows.length;
    log.debug({ rows: rows.length, lease }, 'claimed');

    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const key = row[r.key] as Key;
      if (opts.signal.aborted) {
        await release(db, r, rows.slice(i), lease);
        throw opts.signal.reason;
      }
      if (performance.now() - claimedAt >= r.leaseMs) {
        // The claim ran out: another poller may own these rows now. Leave them alone.
        result.lost += rows.length - i;
        log.warn({ rows: rows.length - i }, 'lease ran out before these claimed rows were started; leaving them to other pollers');
        break;
      }
      const attempt = r.attempts ? Number(row[r.attempts] ?? 0) + 1 : 1;
      if (r.attempts && attempt > r.maxAttempts) {
        // A previous attempt crashed its poller after the last permitted try.
        if (await settle(db, r, key, lease, { [r.status]: opts.failed, [r.lease]: null })) result.failed++;
        else result.lost++;
        log.warn({ key, attempts: attempt - 1 }, 'row marked failed: attempts exhausted (a poller died while processing it)');
        continue;
      }
      const leaseLeft = Math.max(1, Math.floor(r.leaseMs - (performance.now() - claimedAt)));
      const rowSignal = AbortSignal.any([opts.signal, AbortSignal.timeout(leaseLeft)]);
      try {
        const extra = (await opts.handler(row as R, { signal: rowSignal, attempt, lease })) ?? {};
        const set: Row = { ...extra, [r.status]: opts.to, [r.lease]: null };
        if (r.errorColumn) set[r.errorColumn] = null;
        if (await settle(db, r, key, lease, set)) result.done++;
        else {
          result.lost++;
          log.warn({ key }, 'lease lost before the row was finished; its result was not written');
        }
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        const final = !r.attempts || attempt >= r.maxAttempts;
        const set: Row = final ? { [r.status]: opts.failed, [r.lease]: null } : { [r.lease]: (await serverNowMs(db)) + r.retryDelayMs };
        if (r.errorColumn) set[r.errorColumn] = message.slice(0, 1000);
        if (!(await settle(db, r, key, lease, set))) result.lost++;
        else if (final) result.failed++;
        else result.retried++;
        log.warn({ key, rowAttempt: attempt, err: message, final }, final ? 'row failed' : 'row failed; will retry');
        if (opts.signal.aborted) {
          await release(db, r, rows.slice(i + 1), lease);
          throw opts.signal.reason;
        }
      }
    }
  }
  return result;
}

/** Hands claimed-but-unstarted rows back to the pool now, without counting the attempt. */
async function release(db: Knex, r: Resolved, rows: Row[], lease: number): Promise<void> {
  if (rows.length === 0) return;
  const set: Row = { [r.lease]: null };
  if (r.attempts) set[r.attempts] = db.raw('?? - 1', [r.attempts]);
  await db(r.table).whereIn(r.key, rows.map((row) => row[r.key] as Key)).where(r.lease, lease).update(set);
}
