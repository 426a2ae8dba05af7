/**
 * The queries behind the IAM watchers `clean`, `task` and `cleansecret`.
 *
 * Each walks its table in primary-key windows of `batchSize` rows: one short index read finds the
 * window's upper key, then one set-based statement changes the matching rows inside the window.
 * Every statement touches at most one window, a run reads each row once whatever indexes exist
 * (they also work on tables created by IAM's original dump), and `signal` is checked between
 * windows. The cutoff is computed once per run by the database server, in UTC, never from a local
 * time string. Dry runs count what would change with the same windows and change nothing.
 */
import type { Knex } from 'knex';
import type { Logger } from '../base/logger.js';
import { dialectOf } from './dialect.js';

/** What a housekeeping statement run reports; it is a watcher's run result as it stands. */
export interface HousekeepingResult {
  summary: string;
  rows: number;
  batches: number;
  dryRun: boolean;
  [key: string]: unknown;
}

export interface BatchOptions {
  batchSize: number;
  dryRun: boolean;
  signal: AbortSignal;
  log: Logger;
}

export interface PurgePolicyAuditOptions extends BatchOptions {
  maxReserveDays: number;
}

export interface DisableInactiveUsersOptions extends BatchOptions {
  /** 0 turns the watcher off: nothing is queried. */
  maxInactiveDays: number;
  includeAdmins: boolean;
  disableSecrets: boolean;
}

export interface DeleteExpiredSecretsOptions extends BatchOptions {
  graceDays: number;
}

/** A TIMESTAMP value below every real one: the original dump's zero-date default sorts under it. */
const EPOCH = '1970-01-01 00:00:00';

type Key = number | string;

interface Clock {
  /** `days` days before the server's now, bindable against TIMESTAMP columns. */
  cutoff: Date | string;
  cutoffIso: string;
  /** The server's now in unix seconds. */
  nowSec: number;
}

/** Reads the database server's clock once, in UTC. */
async function serverClock(db: Knex, days: number): Promise<Clock> {
  if (dialectOf(db) === 'mysql') {
    const [rows] = (await db.raw('SELECT NOW() - INTERVAL ? DAY AS cutoff, UNIX_TIMESTAMP() AS nowSec', [days])) as [Array<{ cutoff: Date; nowSec: number | string }>];
    const row = rows[0]!;
    return { cutoff: row.cutoff, cutoffIso: row.cutoff.toISOString(), nowSec: Number(row.nowSec) };
  }
  const rows = (await db.raw(`SELECT datetime('now', ?) AS cutoff, CAST(strftime('%s', 'now') AS INTEGER) AS nowSec`, [`-${days} days`])) as Array<{ cutoff: string; nowSec: number }>;
  const row = rows[0]!;
  return { cutoff: row.cutoff, cutoffIso: `${row.cutoff.replace(' ', 'T')}.000Z`, nowSec: Number(row.nowSec) };
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason ?? new Error('aborted');
}

async function countOf(q: Knex.QueryBuilder): Promise<number> {
  const row = (await q.count({ n: '*' }).first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

interface Tally {
  rows: number;
  batches: number;
  maxStatementMs: number;
  started: number;
}

/** Runs one statement, recording how long it took. */
async function timed<T>(tally: Tally, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await run();
  } finally {
    tally.maxStatementMs = Math.max(tally.maxStatementMs, performance.now() - t0);
  }
}

function newTally(): Tally {
  return { rows: 0, batches: 0, maxStatementMs: 0, started: performance.now() };
}

/** A primary-key window: keys in (lo, hi]; lo null = from the start. */
interface Window {
  lo: Key | null;
  hi: Key;
  /** Holds exactly batchSize keys (when read); the last window may hold fewer. */
  full: boolean;
}

function inWindow(q: Knex.QueryBuilder, key: string, w: Window): Knex.QueryBuilder {
  if (w.lo !== null) q.where(key, '>', w.lo);
  q.where(key, '<=', w.hi);
  return q;
}

/**
 * Yields consecutive windows of at most `size` keys covering the whole table, each found by one
 * read of the primary-key index; the last window ends at the largest key. Empty tables yield none.
 */
async function* windows(db: Knex, table: string, key: string, size: number, tally: Tally): AsyncGenerator<Window> {
  let lo: Key | null = null;
  for (;;) {
    const after = (q: Knex.QueryBuilder): Knex.QueryBuilder => (lo === null ? q : q.where(key, '>', lo));
    const row = (await timed(tally, () => after(db(table).select(key).orderBy(key).limit(1).offset(size - 1))))[0] as Record<string, Key> | undefined;
    if (row !== undefined) {
      yield { lo, hi: row[key]!, full: true };
      lo = row[key]!;
      continue;
    }
    const last = (await timed(tally, () => after(db(table).max({ hi: key })).first())) as { hi: Key | null } | undefined;
    if (last?.hi !== null && last?.hi !== undefined) yield { lo, hi: last.hi, full: false };
    return;
  }
}

function finish(tally: Tally, dryRun: boolean, summary: string, extra: Record<string, unknown>): HousekeepingResult {
  return {
    summary,
    rows: tally.rows,
    batches: tally.batches,
    dryRun,
    durationMs: Math.round(performance.now() - tally.started),
    maxStatementMs: Math.round(tally.maxStatementMs * 10) / 10,
    ...extra,
  };
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Shared loop of the two delete watchers: delete (or count) rows matching `where` window by window. */
async function deleteInWindows(
  db: Knex,
  table: string,
  where: (q: Knex.QueryBuilder) => Knex.QueryBuilder,
  opts: BatchOptions,
  tally: Tally,
): Promise<void> {
  for await (const w of windows(db, table, 'id', opts.batchSize, tally)) {
    throwIfAborted(opts.signal);
    const n = await timed(tally, async () => {
      const q = where(inWindow(db(table), 'id', w));
      return opts.dryRun ? countOf(q) : Number(await q.delete());
    });
    tally.rows += n;
    tally.batches++;
    if (n > 0) opts.log.debug({ table, window: w, rows: n, dryRun: opts.dryRun }, opts.dryRun ? 'would delete' : 'deleted');
    throwIfAborted(opts.signal);
  }
}

/** `clean`: deletes policy_audit rows whose deletedAt is more than maxReserveDays before now. */
export async function purgePolicyAudit(db: Knex, opts: PurgePolicyAuditOptions): Promise<HousekeepingResult> {
  if (!Number.isInteger(opts.maxReserveDays) || opts.maxReserveDays < 1) throw new RangeError('maxReserveDays must be a whole number >= 1');
  const tally = newTally();
  throwIfAborted(opts.signal);
  const clock = await serverClock(db, opts.maxReserveDays);
  // deletedAt > EPOCH skips the original dump's zero-date default: an unknown deletion time is kept.
  await deleteInWindows(db, 'policy_audit', (q) => q.where('deletedAt', '<', clock.cutoff).where('deletedAt', '>', EPOCH), opts, tally);
  const verb = opts.dryRun ? 'would delete' : 'deleted';
  return finish(tally, opts.dryRun, `${verb} ${plural(tally.rows, 'policy_audit row')} deleted before ${clock.cutoffIso}`, { cutoff: clock.cutoffIso });
}

/** `cleansecret`: deletes secrets that expired more than graceDays ago; expires = 0 never expires. */
export async function deleteExpiredSecrets(db: Knex, opts: DeleteExpiredSecretsOptions): Promise<HousekeepingResult> {
  if (!Number.isInteger(opts.graceDays) || opts.graceDays < 0) throw new RangeError('graceDays must be a whole number >= 0');
  const tally = newTally();
  throwIfAborted(opts.signal);
  const clock = await serverClock(db, 0);
  const before = clock.nowSec - opts.graceDays * 86_400;
  await deleteInWindows(db, 'secret', (q) => q.where('expires', '<>', 0).where('expires', '<', before), opts, tally);
  const verb = opts.dryRun ? 'would delete' : 'deleted';
  return finish(tally, opts.dryRun, `${verb} ${plural(tally.rows, 'secret')} expired before ${new Date(before * 1000).toISOString()}`, {
    cutoff: new Date(before * 1000).toISOString(),
  });
}

/** `task`: disables active users inactive for maxInactiveDays (judged by createdAt if they never logged in). */
export async function disableInactiveUsers(db: Knex, opts: DisableInactiveUsersOptions): Promise<HousekeepingResult> {
  if (!Number.isInteger(opts.maxInactiveDays) || opts.maxInactiveDays < 0) throw new RangeError('maxInactiveDays must be a whole number >= 0');
  if (opts.maxInactiveDays === 0) {
    return { summary: 'off (max-inactive-days=0): nothing examined', rows: 0, batches: 0, dryRun: opts.dryRun, durationMs: 0, examined: 0, secretsExpired: 0 };
  }
  const dialect = dialectOf(db);
  const tally = newTally();
  throwIfAborted(opts.signal);
  const clock = await serverClock(db, opts.maxInactiveDays);
  // The whole condition lives in each statement, so a login committed before the UPDATE reads the
  // row keeps the user active, and nothing but status and updatedAt is ever written.
  const inactive = (q: Knex.QueryBuilder): Knex.QueryBuilder => {
    q.where('status', 1);
    if (!opts.includeAdmins) q.where('isAdmin', 0);
    return q.where((c) =>
      c.where('loginedAt', '<', clock.cutoff).orWhere((n) => n.whereNull('loginedAt').where('createdAt', '<', clock.cutoff)),
    );
  };
  const stillValid = (q: Knex.QueryBuilder): Knex.QueryBuilder => q.where((v) => v.where('expires', 0).orWhere('expires', '>', clock.nowSec));
  let examined = 0;
  let secretsExpired = 0;

  for await (const w of windows(db, 'user', 'id', opts.batchSize, tally)) {
    throwIfAborted(opts.signal);
    examined += w.full ? opts.batchSize : await timed(tally, () => countOf(inWindow(db('user'), 'id', w)));
    if (opts.dryRun) {
      tally.rows += await timed(tally, () => countOf(inactive(inWindow(db('user'), 'id', w))));
      if (opts.disableSecrets) {
        const names = inactive(inWindow(db('user'), 'id', w)).select('name');
        secretsExpired += await timed(tally, () => countOf(stillValid(db('secret').whereIn('username', names))));
      }
    } else if (!opts.disableSecrets) {
      const n = await timed(tally, async () => Number(await inactive(inWindow(db('user'), 'id', w)).update({ status: 0, updatedAt: db.fn.now() })));
      tally.rows += n;
    } else {
      // Lock the window's inactive users, disable exactly them, expire exactly their secrets (expires
      // = a second ago: IAM treats a secret as expired when expires < now).
      const [n, s] = await timed(tally, () =>
        db.transaction(async (trx) => {
          const sel = inactive(inWindow(trx('user'), 'id', w)).select('id', 'name');
          if (dialect === 'mysql') sel.forUpdate();
          const users = (await sel) as Array<{ id: Key; name: string }>;
          if (users.length === 0) return [0, 0] as const;
          const ids = users.map((u) => u.id);
          const disabled = Number(await inactive(trx('user').whereIn('id', ids)).update({ status: 0, updatedAt: trx.fn.now() }));
          const expired = Number(await stillValid(trx('secret').whereIn('username', users.map((u) => u.name))).update({ expires: clock.nowSec - 1, updatedAt: trx.fn.now() }));
          return [disabled, expired] as const;
        }),
      );
      tally.rows += n;
      secretsExpired += s;
    }
    tally.batches++;
    throwIfAborted(opts.signal);
  }
  const verb = opts.dryRun ? 'would disable' : 'disabled';
  const secrets = opts.disableSecrets ? `, ${opts.dryRun ? 'would expire' : 'expired'} ${plural(secretsExpired, 'secret')}` : '';
  return finish(tally, opts.dryRun, `${verb} ${plural(tally.rows, 'user')} inactive since ${clock.cutoffIso} (${examined} examined)${secrets}`, {
    cutoff: clock.cutoffIso,
    examined,
    secretsExpired,
  });
}
