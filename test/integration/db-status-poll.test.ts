/**
 * pollStatus against real databases: two pollers (separate pools, as two instances would have)
 * never process a row twice; a hung or crashed claimer's rows come back after the lease;
 * failures are retried, then marked failed; an abort releases the rows not yet started.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { openDatabase } from '../../src/db/connect.js';
import { pollStatus, type PollStatusOptions } from '../../src/db/status-poll.js';
import { BACKENDS, quietLogger, type TestDatabase } from '../helpers/db.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const live = (): AbortSignal => new AbortController().signal;

async function createJobs(db: Knex, n: number): Promise<void> {
  await db.schema.dropTableIfExists('job');
  await db.schema.createTable('job', (t) => {
    t.increments('id').primary();
    t.string('status', 16).notNullable().defaultTo('pending');
    t.bigInteger('leaseUntil').nullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.string('lastError', 1000).nullable();
    t.string('result', 64).nullable();
    t.index(['status', 'leaseUntil'], 'idx_job_status_lease');
  });
  for (let i = 0; i < n; i += 500) await db('job').insert(Array.from({ length: Math.min(500, n - i) }, () => ({ status: 'pending' })));
}

const common = {
  table: 'job',
  from: 'pending',
  to: 'done',
  failed: 'failed',
  leaseColumn: 'leaseUntil',
  attemptsColumn: 'attempts',
  errorColumn: 'lastError',
} as const;

function opts(extra: Partial<PollStatusOptions> & Pick<PollStatusOptions, 'handler'>): PollStatusOptions {
  return { ...common, leaseMs: 5000, batchSize: 10, signal: live(), log: quietLogger(), ...extra };
}

const statuses = async (db: Knex): Promise<Record<string, number>> => {
  const rows = (await db('job').select('status').count({ n: '*' }).groupBy('status')) as Array<{ status: string; n: number | string }>;
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
};

for (const backend of BACKENDS) {
  describe(`pollStatus on ${backend.name}`, () => {
    let t: TestDatabase;
    let db2: Knex;
    before(async () => {
      t = await backend.create();
      db2 = await openDatabase(t.url); // a second instance's pool
    });
    after(async () => {
      await db2?.destroy();
      await t?.drop();
    });
    beforeEach(async () => createJobs(t.db, 0));

    test('two concurrent pollers process every row exactly once', async () => {
      await createJobs(t.db, 400);
      const seen = new Map<number, string>();
      const twice: number[] = [];
      const handler = (who: string) => async (row: Record<string, unknown>) => {
        const id = Number(row.id);
        if (seen.has(id)) twice.push(id);
        seen.set(id, who);
        await sleep(Math.random() < 0.2 ? 2 : 0);
        return { result: `by ${who}` };
      };
      const [a, b] = await Promise.all([
        pollStatus(t.db, opts({ batchSize: 7, handler: handler('a') })),
        pollStatus(db2, opts({ batchSize: 7, handler: handler('b') })),
      ]);
      assert.deepEqual(twice, []);
      assert.equal(seen.size, 400);
      assert.equal(a.done + b.done, 400);
      assert.equal(a.claimed + b.claimed, 400);
      assert.ok(a.done > 0 && b.done > 0, `both pollers worked (a ${a.done}, b ${b.done})`);
      assert.deepEqual(await statuses(t.db), { done: 400 });
      const wrong = await t.db('job').whereNot('attempts', 1).orWhereNotNull('leaseUntil').count({ n: '*' }).first();
      assert.equal(Number(wrong?.n), 0);
    });

    test('a hung claimer\'s rows return to the pool after the lease, and its late result is not written', async () => {
      await createJobs(t.db, 12);
      let release!: () => void;
      const hung = new Promise<void>((r) => (release = r));
      let started = 0;
      const stuck = pollStatus(t.db, opts({ leaseMs: 600, batchSize: 5, maxBatches: 1, handler: async () => {
        started++;
        await hung; // ignores its signal, like a process frozen by a pause
        return { result: 'late' };
      } }));
      while (started === 0) await sleep(10);
      // Within the lease, the other poller gets only the 7 unclaimed rows.
      const first = await pollStatus(db2, opts({ leaseMs: 600, handler: async () => ({ result: 'b' }) }));
      assert.equal(first.done, 7);
      assert.deepEqual(await statuses(t.db), { done: 7, pending: 5 });
      await sleep(700);
      const second = await pollStatus(db2, opts({ leaseMs: 600, handler: async () => ({ result: 'b' }) }));
      assert.equal(second.done, 5);
      release();
      const late = await stuck;
      assert.equal(late.done, 0);
      assert.equal(late.lost, 5, 'its result and the 4 rows it had not started are given up');
      assert.equal(started, 1);
      const rows = (await t.db('job').select('result', 'attempts').orderBy('id')) as Array<{ result: string; attempts: number }>;
      assert.ok(rows.every((r) => r.result === 'b'), 'the hung poller wrote nothing');
      assert.deepEqual(rows.slice(0, 5).map((r) => Number(r.attempts)), [2, 2, 2, 2, 2]);
    });

    test('failures are retried after retryDelayMs, then marked failed after maxAttempts', async () => {
      await createJobs(t.db, 3);
      const tries = new Map<number, number>();
      const handler = async (row: Record<string, unknown>) => {
        const id = Number(row.id);
        tries.set(id, (tries.get(id) ?? 0) + 1);
        if (id === 1 && tries.get(id)! < 2) throw new Error('flaky');
        if (id === 2) throw new Error('always broken');
        return { result: 'ok' };
      };
      const o = opts({ handler, maxAttempts: 2, retryDelayMs: 200 });
      const r1 = await pollStatus(t.db, o);
      assert.deepEqual({ done: r1.done, retried: r1.retried, failed: r1.failed }, { done: 1, retried: 2, failed: 0 });
      const early = await pollStatus(t.db, o);
      assert.equal(early.claimed, 0, 'nothing is retried before the delay');
      await sleep(250);
      const r2 = await pollStatus(t.db, o);
      assert.deepEqual({ done: r2.done, retried: r2.retried, failed: r2.failed }, { done: 1, retried: 0, failed: 1 });
      const rows = (await t.db('job').select('id', 'status', 'attempts', 'lastError').orderBy('id')) as Array<Record<string, unknown>>;
      assert.deepEqual(rows.map((r) => [Number(r.id), r.status, Number(r.attempts), r.lastError]), [
        [1, 'done', 2, null],
        [2, 'failed', 2, 'always broken'],
        [3, 'done', 1, null],
      ]);
    });

    test('a row whose poller keeps dying is marked failed once attempts are exhausted', async () => {
      await createJobs(t.db, 1);
      // Two claims whose pollers died (leases already past): attempts = 2 = maxAttempts.
      await t.db('job').update({ attempts: 2, leaseUntil: 1 });
      let ran = false;
      const r = await pollStatus(t.db, opts({ maxAttempts: 2, handler: async () => void (ran = true) }));
      assert.equal(ran, false);
      assert.equal(r.failed, 1);
      assert.deepEqual(await statuses(t.db), { failed: 1 });
    });

    test('abort mid-batch: the current row finishes, the rest are released at once', async () => {
      await createJobs(t.db, 10);
      const ac = new AbortController();
      let n = 0;
      await assert.rejects(
        pollStatus(t.db, opts({ signal: ac.signal, handler: async () => {
          if (++n === 3) ac.abort(new Error('shutting down'));
          return { result: 'x' };
        } })),
        /shutting down/,
      );
      assert.deepEqual(await statuses(t.db), { done: 3, pending: 7 });
      const leased = await t.db('job').where('status', 'pending').whereNotNull('leaseUntil').count({ n: '*' }).first();
      assert.equal(Number(leased?.n), 0);
      const again = await pollStatus(db2, opts({ handler: async () => ({ result: 'y' }) }));
      assert.equal(again.done, 7);
      const attempts = (await t.db('job').max({ m: 'attempts' }).first()) as { m: number };
      assert.equal(Number(attempts.m), 1, 'released rows do not count an attempt');
    });

    test('the handler\'s signal aborts when the lease runs out', async () => {
      await createJobs(t.db, 1);
      const r = await pollStatus(t.db, opts({ leaseMs: 150, retryDelayMs: 10_000, handler: (_row, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('lease ran out')))) }));
      assert.equal(r.retried, 1);
      const row = (await t.db('job').first('lastError')) as { lastError: string };
      assert.match(row.lastError, /lease ran out/);
    });
  });
}

describe('examples/plugins/finish-orders.js', () => {
  for (const backend of BACKENDS) {
    test(`creates its demo table and finishes the orders on ${backend.name}`, async () => {
      const { pathToFileURL } = await import('node:url');
      const { checkWatcher } = await import('../../src/watchers/define-watcher.js');
      const url = pathToFileURL(new URL('../../examples/plugins/finish-orders.js', import.meta.url).pathname).href;
      const plugin = ((await import(url)) as { default: { run(ctx: unknown): Promise<Record<string, unknown>> } }).default;
      assert.deepEqual(checkWatcher(plugin), []);
      const t = await backend.create();
      try {
        const ctx = (dryRun: boolean) => ({
          job: 'orders', db: t.db, log: quietLogger(), signal: live(), occurrence: new Date(), fence: 7, attempt: 1, instance: 'test', dryRun, env: {},
          options: { 'batch-size': 25, lease: 60_000, 'max-attempts': 3, 'fail-rate': 5, seed: 200 },
        });
        const dry = await plugin.run(ctx(true));
        assert.equal(dry.rows, 0);
        assert.equal(await t.db.schema.hasTable('demo_order'), false, 'dry run creates nothing');
        const r = await plugin.run(ctx(false));
        assert.equal(Number(r.done) + Number(r.retried), 200);
        assert.ok(Number(r.retried) > 0);
        const pending = await t.db('demo_order').where('status', 'pending').count({ n: '*' }).first();
        assert.equal(Number(pending?.n), Number(r.retried));
        const receipt = (await t.db('demo_order').where('status', 'done').first('receipt')) as { receipt: string };
        assert.match(receipt.receipt, /^R-\d+-7$/);
      } finally {
        await t.drop();
      }
    });
  }
});
