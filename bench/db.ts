/**
 * Database benchmark (MariaDB from IAMWATCH_TEST_MYSQL_URL, default mysql://root@127.0.0.1:3306),
 * in a throwaway database created and dropped here:
 *  1. clean on 1,000,000 policy_audit rows (90% expired) vs one raw `DELETE ... WHERE deletedAt <`,
 *     same run: throughput ratio (target >= 0.7x), longest single statement (target < 250 ms), RSS.
 *  2. task on 1,000,000 users vs the original iam-watcher's approach (select the users, then one
 *     full-row UPDATE per inactive user), which is run on a sample and extrapolated linearly.
 * Prints a table. `node --import tsx bench/db.ts` runs it alone; BENCH_ROWS / BENCH_SAMPLE scale it.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { openDatabase, redactUrl } from '../src/db/connect.js';
import { disableInactiveUsers, purgePolicyAudit } from '../src/db/housekeeping.js';
import { initSchema } from '../src/db/schema.js';
import type { Logger } from '../src/observe/log-types.js';
import type { RunResult } from '../src/watchers/define-watcher.js';

const MYSQL_URL = process.env.IAMWATCH_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const ROWS = Math.min(1_000_000, Number(process.env.BENCH_ROWS ?? 1_000_000));
const SAMPLE = Math.min(ROWS, Number(process.env.BENCH_SAMPLE ?? 20_000));
const BATCH = 5000;

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MB`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const rate = (rows: number, ms: number): string => `${Math.round(rows / (ms / 1000)).toLocaleString('en-US')} rows/s`;

async function timeIt<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

/** 0..9, cross-joined six times: numbers 1..1,000,000 without a round trip per row. */
async function createDigits(db: Knex): Promise<void> {
  await db.raw('CREATE TABLE bench_digits (n tinyint unsigned NOT NULL PRIMARY KEY)');
  await db('bench_digits').insert(Array.from({ length: 10 }, (_, n) => ({ n })));
}

/** SELECT of numbers 1..ROWS whose top digit is `top` (one chunk of 100,000). */
const numbers = (top: number): string =>
  `SELECT a.n + 10*b.n + 100*c.n + 1000*d.n + 10000*e.n + 100000*${top} + 1 AS n FROM bench_digits a, bench_digits b, bench_digits c, bench_digits d, bench_digits e`;

async function fillPolicyAudit(db: Knex): Promise<void> {
  await db.raw('TRUNCATE TABLE policy_audit');
  for (let top = 0; top * 100_000 < ROWS; top++) {
    await db.raw(
      `INSERT INTO policy_audit (id, instanceID, name, username, policyShadow, extendShadow, createdAt, updatedAt, deletedAt)
       SELECT n, CONCAT('policy-', n), CONCAT('p', n), CONCAT('user', n % 5000),
              '{"subjects":["users:someone"],"actions":["get","list"],"effect":"allow","resources":["resources:articles:1"]}', '{}',
              NOW() - INTERVAL 600 DAY, NOW() - INTERVAL 600 DAY,
              IF(n % 10 = 0, NOW() - INTERVAL (n % 170) DAY, NOW() - INTERVAL (181 + n % 300) DAY) - INTERVAL (n % 86400) SECOND
       FROM (${numbers(top)}) s WHERE n <= ?`,
      [ROWS],
    );
  }
}

async function fillUsers(db: Knex): Promise<void> {
  await db.raw('SET FOREIGN_KEY_CHECKS = 0');
  await db.raw('TRUNCATE TABLE secret');
  await db.raw('TRUNCATE TABLE user');
  for (let top = 0; top * 100_000 < ROWS; top++) {
    // ~30% logged in more than 180 days ago, 5% never logged in (created long ago), 1% admins.
    await db.raw(
      `INSERT INTO user (instanceID, name, status, nickname, password, email, phone, isAdmin, extendShadow, loginedAt, createdAt, updatedAt)
       SELECT CONCAT('user-', n), CONCAT('user', n), 1, CONCAT('nick', n), '$2a$10$WnQD2DCfWVhlGmkQ8pdLkesIGPf9KJB7N1mhSOqulbgN7ZMo44Mv2',
              CONCAT('user', n, '@example.com'), '1812884xxxx', IF(n % 100 = 0, 1, 0), '{}',
              CASE WHEN n % 20 = 1 THEN NULL WHEN n % 10 < 3 THEN NOW() - INTERVAL (181 + n % 500) DAY ELSE NOW() - INTERVAL (n % 170) DAY END,
              NOW() - INTERVAL (200 + n % 800) DAY, NOW() - INTERVAL 200 DAY
       FROM (${numbers(top)}) s WHERE n <= ?`,
      [ROWS],
    );
  }
}

/**
 * The original iam-watcher's task (marmotedu/iam v1.2.0), made to examine every user: list the
 * users, then for each one whose last login is too old, save the whole row with status 0 (gorm's
 * Save: every column, one statement and one commit per user). NULL loginedAt counts as inactive,
 * as in the original.
 */
async function originalTask(db: Knex, sample: number, maxInactiveDays: number): Promise<number> {
  const users = (await db('user').where('id', '<=', sample).select('*')) as Array<Record<string, unknown>>;
  const limit = Date.now() - maxInactiveDays * 86_400_000;
  let disabled = 0;
  for (const u of users) {
    const logined = u.loginedAt instanceof Date ? u.loginedAt.getTime() : 0;
    if (logined >= limit) continue;
    const { id, ...rest } = u;
    await db('user').where('id', id as number).update({ ...rest, status: 0, updatedAt: new Date() });
    disabled++;
  }
  return disabled;
}

async function innodbState(db: Knex): Promise<{ dirty: number; total: number; history: number }> {
  const [status] = (await db.raw(
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_buffer_pool_pages_dirty', 'Innodb_buffer_pool_pages_total')",
  )) as [Array<{ Variable_name: string; Value: string }>];
  const v = Object.fromEntries(status.map((r) => [r.Variable_name, Number(r.Value)]));
  const [hist] = (await db.raw("SELECT `count` AS n FROM information_schema.INNODB_METRICS WHERE name = 'trx_rseg_history_len'")) as [Array<{ n: number }>];
  return { dirty: v.Innodb_buffer_pool_pages_dirty ?? 0, total: v.Innodb_buffer_pool_pages_total ?? 1, history: Number(hist[0]?.n ?? 0) };
}

/**
 * Waits (at most `maxMs`) until InnoDB has flushed the dirty pages of the last fill and purged
 * older transactions, so each measured run starts from an equally quiet server; returns the wait.
 */
async function quiesce(db: Knex, maxMs = 45_000): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const s = await innodbState(db);
    if (s.dirty < s.total * 0.05 && s.history <= 5) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return performance.now() - t0;
}

/**
 * Runs `fn`; also returns the time until InnoDB's purge has caught up (history list back to a few
 * transactions). A single big DELETE's rows are purged only after its commit, batches' rows while
 * the next batches run, so statement time alone flatters the single DELETE.
 */
async function timeWithPurge<T>(db: Knex, fn: () => Promise<T>): Promise<[T, number, number]> {
  const [v, ms] = await timeIt(fn);
  const t0 = performance.now();
  while (performance.now() - t0 < 60_000 && (await innodbState(db)).history > 5) await new Promise((r) => setTimeout(r, 50));
  return [v, ms, ms + (performance.now() - t0)];
}

function printTable(title: string, rows: Array<[string, string, string]>): void {
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`\n${title}`);
  for (const [a, b, c] of rows) console.log(`  ${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
}

export async function benchDatabase(): Promise<void> {
  const name = `iamwatch_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = await openDatabase(MYSQL_URL);
  const [[version]] = (await admin.raw('SELECT VERSION() AS v')) as [[{ v: string }]];
  await admin.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  const u = new URL(MYSQL_URL);
  u.pathname = `/${name}`;
  const db = await openDatabase(u.toString());
  console.log(`database benchmark: ${redactUrl(u.toString())} (${version.v}), ${ROWS.toLocaleString('en-US')} rows, batch-size ${BATCH}`);
  try {
    await initSchema(db);
    await createDigits(db);

    // 1. clean vs one raw DELETE: two rounds each on a fresh fill, alternating; the better of each
    // counts (background flushing after a fill makes single runs of either noisy on a small VM).
    let fillMs = 0;
    const quiet: number[] = [];
    const raws: Array<{ rows: number; ms: number; purgedMs: number }> = [];
    const cleans: Array<{ result: RunResult; ms: number; purgedMs: number; rssBefore: number; rssAfter: number }> = [];
    for (let round = 0; round < 2; round++) {
      [, fillMs] = await timeIt(() => fillPolicyAudit(db));
      quiet.push(await quiesce(db));
      const [rawRes, rawMs, rawPurgedMs] = await timeWithPurge(db, () => db.raw('DELETE FROM policy_audit WHERE deletedAt < NOW() - INTERVAL 180 DAY'));
      raws.push({ rows: Number((rawRes as [{ affectedRows: number }])[0].affectedRows), ms: rawMs, purgedMs: rawPurgedMs });
      await fillPolicyAudit(db);
      quiet.push(await quiesce(db));
      const rssBefore = process.memoryUsage().rss;
      const [result, ms, purgedMs] = await timeWithPurge(db, () =>
        purgePolicyAudit(db, { maxReserveDays: 180, batchSize: BATCH, dryRun: false, signal: new AbortController().signal, log: silent }),
      );
      cleans.push({ result, ms, purgedMs, rssBefore, rssAfter: process.memoryUsage().rss });
    }
    const raw = raws.reduce((a, b) => (b.ms < a.ms ? b : a));
    const best = cleans.reduce((a, b) => (b.ms < a.ms ? b : a));
    const clean = best.result;
    const ratio = Number(clean.rows) / best.ms / (raw.rows / raw.ms);
    const rawPurged = Math.min(...raws.map((r) => r.purgedMs));
    const cleanPurged = Math.min(...cleans.map((c) => c.purgedMs));
    const maxStmt = Math.max(...cleans.map((c) => Number(c.result.maxStatementMs)));
    const all = (xs: number[]): string => xs.map((ms) => secs(ms)).join(', ');
    printTable(`1. clean: ${ROWS.toLocaleString('en-US')} policy_audit rows, 90% expired (a fill takes ${secs(fillMs)}; each run starts on a quiet server; best of 2 runs each)`, [
      ['approach', 'result', 'figure'],
      ['one raw DELETE ... WHERE deletedAt < ...', `${raw.rows.toLocaleString('en-US')} rows in ${secs(raw.ms)}`, `${rate(raw.rows, raw.ms)} (runs: ${all(raws.map((r) => r.ms))})`],
      [`clean (${clean.batches} batches)`, `${Number(clean.rows).toLocaleString('en-US')} rows in ${secs(best.ms)}`, `${rate(Number(clean.rows), best.ms)} (runs: ${all(cleans.map((c) => c.ms))})`],
      ['throughput ratio clean/raw', `${ratio.toFixed(2)}x`, `target >= 0.7x: ${ratio >= 0.7 ? 'met' : 'NOT met'}`],
      ['same, until InnoDB purged the rows', `${(rawPurged / cleanPurged).toFixed(2)}x`, `raw ${secs(rawPurged)}, clean ${secs(cleanPurged)} (best runs)`],
      ['longest single statement', `clean ${maxStmt.toFixed(1)} ms`, `raw ${raw.ms.toFixed(0)} ms; target < 250 ms: ${maxStmt < 250 ? 'met' : 'NOT met'}`],
      ['RSS before/after clean', cleans.map((c) => `${mb(c.rssBefore)} -> ${mb(c.rssAfter)}`).join(', '), ''],
      ['waits for a quiet server before runs', all(quiet), 'capped at 45 s'],
    ]);

    // 2. task vs the original approach on a sample.
    await db.raw('DELETE FROM policy_audit');
    const [, userFillMs] = await timeIt(() => fillUsers(db));
    // The original approach on the first SAMPLE users of the same table, then those users are
    // re-enabled and task runs on all of them.
    await quiesce(db);
    const [origDisabled, origMs] = await timeIt(() => originalTask(db, SAMPLE, 180));
    await db('user').where('id', '<=', SAMPLE).update({ status: 1 });
    await quiesce(db);
    const [task, taskMs] = await timeIt(() =>
      disableInactiveUsers(db, { maxInactiveDays: 180, includeAdmins: true, disableSecrets: false, batchSize: BATCH, dryRun: false, signal: new AbortController().signal, log: silent }),
    );
    const origFullMs = origMs * (ROWS / SAMPLE);
    const speedup = origFullMs / taskMs;
    printTable(`2. task: ${ROWS.toLocaleString('en-US')} users, ~30% inactive (fill took ${secs(userFillMs)})`, [
      ['approach', 'result', 'figure'],
      [`original, measured on the first ${SAMPLE.toLocaleString('en-US')} users`, `${origDisabled.toLocaleString('en-US')} disabled in ${secs(origMs)}`, rate(SAMPLE, origMs)],
      [`original, extrapolated x${(ROWS / SAMPLE).toFixed(0)} (linear, not measured)`, `~${Math.round(origDisabled * (ROWS / SAMPLE)).toLocaleString('en-US')} disabled`, `~${secs(origFullMs)}`],
      [`task (${task.batches} batches, all ${Number(task.examined).toLocaleString('en-US')} users examined)`, `${Number(task.rows).toLocaleString('en-US')} disabled in ${secs(taskMs)}`, rate(Number(task.examined), taskMs)],
      ['speed-up task vs original', `${speedup.toFixed(0)}x`, `target >= 50x: ${speedup >= 50 ? 'met' : 'NOT met'}`],
      ['longest single statement', `task ${Number(task.maxStatementMs).toFixed(1)} ms`, ''],
    ]);
  } finally {
    await db.destroy();
    await admin.raw(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin.destroy();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchDatabase();
}
