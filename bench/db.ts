/**
 * Database benchmark (MariaDB from IAMWATCH_TEST_MYSQL_URL, default mysql://root@127.0.0.1:3306),
 * in a throwaway database created and dropped here:
 *  1. clean on 1,000,000 policy_audit rows (90% expired) vs one raw `DELETE ... WHERE deletedAt <`,
 *     same run: throughput ratio (target >= 0.7x), longest single statement (target < 250 ms), RSS.
 *  2. task on 1,000,000 users vs the original iam-watcher's approach (select the users, then one
 *     full-row UPDATE per inactive user), which is run on a sample and extrapolated linearly.
 * Prints a table. `node --import tsx bench/db.ts` runs it alone; BENCH_ROWS, BENCH_SAMPLE and
 * BENCH_ROUNDS scale it.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { openDatabase, databaseLabel } from '../src/db/connect.js';
import { disableInactiveUsers, purgePolicyAudit } from '../src/db/housekeeping.js';
import { initSchema } from '../src/db/schema.js';
import type { Logger } from '../src/base/logger.js';
import type { RunResult } from '../src/watchers/define-watcher.js';

const MYSQL_URL = process.env.IAMWATCH_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const ROWS = Math.min(1_000_000, Number(process.env.BENCH_ROWS ?? 1_000_000));
const SAMPLE = Math.min(ROWS, Number(process.env.BENCH_SAMPLE ?? 20_000));
const BATCH = 5000;
const CLEAN_BATCHES = [BATCH, 10_000];
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

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
  console.log(`database benchmark: ${databaseLabel(u.toString())} (${version.v}), ${ROWS.toLocaleString('en-US')} rows, batch-size ${BATCH}`);
  try {
    await initSchema(db);
    await createDigits(db);

    // 1. clean vs one raw DELETE: ROUNDS runs each on a fresh fill, alternating; the median of each
    // counts (InnoDB's background flushing after a fill makes single runs noisy on a small VM).
    let fillMs = 0;
    const raws: Array<{ rows: number; ms: number }> = [];
    const cleans: Array<{ batchSize: number; result: RunResult; ms: number; rssBefore: number; rssAfter: number }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      [, fillMs] = await timeIt(() => fillPolicyAudit(db));
      const [rawRes, rawMs] = await timeIt(() => db.raw('DELETE FROM policy_audit WHERE deletedAt < NOW() - INTERVAL 180 DAY'));
      raws.push({ rows: Number((rawRes as [{ affectedRows: number }])[0].affectedRows), ms: rawMs });
      for (const batchSize of CLEAN_BATCHES) {
        await fillPolicyAudit(db);
        const rssBefore = process.memoryUsage().rss;
        const [result, ms] = await timeIt(() =>
          purgePolicyAudit(db, { maxReserveDays: 180, batchSize, dryRun: false, signal: new AbortController().signal, log: silent }),
        );
        cleans.push({ batchSize, result, ms, rssBefore, rssAfter: process.memoryUsage().rss });
      }
    }
    const median = <T extends { ms: number }>(xs: T[]): T => [...xs].sort((a, b) => a.ms - b.ms)[Math.floor(xs.length / 2)]!;
    const raw = median(raws);
    const all = (xs: number[]): string => xs.map((ms) => secs(ms)).join(', ');
    const rows: Array<[string, string, string]> = [
      ['approach', 'result', 'figure'],
      ['one raw DELETE ... WHERE deletedAt < ...', `${raw.rows.toLocaleString('en-US')} rows in ${secs(raw.ms)}`, `${rate(raw.rows, raw.ms)} (runs: ${all(raws.map((r) => r.ms))})`],
    ];
    for (const batchSize of CLEAN_BATCHES) {
      const runs = cleans.filter((c) => c.batchSize === batchSize);
      const mid = median(runs);
      const ratio = Number(mid.result.rows) / mid.ms / (raw.rows / raw.ms);
      const maxStmt = Math.max(...runs.map((c) => Number(c.result.maxStatementMs)));
      const label = `clean batch-size=${batchSize}${batchSize === BATCH ? ' (default)' : ''}`;
      rows.push(
        [`${label}, ${mid.result.batches} batches`, `${Number(mid.result.rows).toLocaleString('en-US')} rows in ${secs(mid.ms)}`, `${rate(Number(mid.result.rows), mid.ms)} (runs: ${all(runs.map((c) => c.ms))})`],
        [`  throughput ratio vs raw`, `${ratio.toFixed(2)}x`, `target >= 0.7x: ${ratio >= 0.7 ? 'met' : 'NOT met'}`],
        [`  longest single statement (all runs)`, `${maxStmt.toFixed(1)} ms`, `target < 250 ms: ${maxStmt < 250 ? 'met' : 'NOT met'} (raw: one ${raw.ms.toFixed(0)} ms statement)`],
        [`  RSS before -> after`, runs.map((c) => `${mb(c.rssBefore)} -> ${mb(c.rssAfter)}`).join(', '), ''],
      );
    }
    printTable(`1. clean: ${ROWS.toLocaleString('en-US')} policy_audit rows, 90% expired (a fill takes ${secs(fillMs)}; median of ${ROUNDS} runs each)`, rows);

    // 2. task vs the original approach on a sample.
    await db.raw('DELETE FROM policy_audit');
    const [, userFillMs] = await timeIt(() => fillUsers(db));
    // The original approach on the first SAMPLE users of the same table, then those users are
    // re-enabled and task runs on all of them.
    const [origDisabled, origMs] = await timeIt(() => originalTask(db, SAMPLE, 180));
    await db('user').where('id', '<=', SAMPLE).update({ status: 1 });
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
