/**
 * Store calls made in the same tick are batched (src/coordination/batcher.ts), against a real
 * Redis with a connection that counts the commands it sends: 2,000 claims for 2,000 jobs are one
 * EVALSHA (plus one EVAL when the server lacks the script), every claim won once and a second
 * round all `taken`; the same for 2,000 renewals, releases and history appends. A batch that gets
 * no answer fails every claim in it with the same typed failure and releases their locks; a reply
 * the store can't understand is an error for its own request (and its lock is released), never a
 * default. The embedded store commits the claims of one tick in one transaction.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_BATCH_SIZE } from '../../src/coordination/batcher.js';
import { SqliteStore } from '../../src/coordination/embedded/sqlite-store.js';
import { openStateDatabase, type Database } from '../../src/coordination/embedded/sqlite.js';
import { internalErrorOf } from '../../src/coordination/internal-error.js';
import { connectRedis, type RedisConnection } from '../../src/coordination/redis/client.js';
import { withDeadlines } from '../../src/coordination/redis/deadline.js';
import { jobKeys, historyJobsKey } from '../../src/coordination/redis/keys.js';
import { RedisFleet } from '../../src/coordination/redis/redis-fleet.js';
import { RedisStore } from '../../src/coordination/redis/redis-store.js';
import type { RunRecord } from '../../src/coordination/records.js';
import { storeFailureOf } from '../../src/coordination/store-failure.js';
import type { ClaimResult, Holder } from '../../src/coordination/store.js';
import { deletePrefix, openClient, SHARED_REDIS_URL, sleep, startRedisServer, uniquePrefix, type PrivateRedis, type TestRedisClient } from '../helpers/redis.js';

const N = 2_000;
assert.ok(N <= DEFAULT_BATCH_SIZE, `${N} requests make one batch`);
const TTL = 60_000;
const OCCURRENCE = Math.floor(Date.now() / 1000) * 1000;
const holder = (instance: string): Holder => ({ instance, occurrence: OCCURRENCE, startedAt: Date.now() });

/** A real connection that counts what it sends, by command; `rewrite` may change a reply. */
interface Counting {
  connection: RedisConnection;
  sent: Map<string, number>;
  total(): number;
  reset(): void;
}

function counting(url: string, rewrite?: (args: string[], reply: unknown) => unknown): Counting {
  const raw = connectRedis(url, { onError: () => {} });
  const sent = new Map<string, number>();
  const inner: RedisConnection = {
    send: async (args, key, ms) => {
      sent.set(args[0]!, (sent.get(args[0]!) ?? 0) + 1);
      const reply = await raw.send(args, key, ms);
      return rewrite ? rewrite(args, reply) : reply;
    },
    get isReady() {
      return raw.isReady;
    },
    cluster: raw.cluster,
    ready: (ms) => raw.ready(ms),
    close: () => raw.close(),
  };
  return {
    connection: withDeadlines(inner),
    sent,
    total: () => [...sent.values()].reduce((a, b) => a + b, 0),
    reset: () => sent.clear(),
  };
}

async function ready(c: Counting): Promise<void> {
  assert.ok(await c.connection.ready(5_000), 'Redis reachable');
}

const jobs = Array.from({ length: N }, (_, i) => `job-${i}`);
const claimAll = (store: RedisStore | SqliteStore, names: string[], occurrence = OCCURRENCE): Promise<ClaimResult[]> =>
  Promise.all(names.map((job) => store.claim({ job, occurrence, holder: holder('batch'), ttlMs: TTL, skipIfRunning: true })));

/** Asserts the commands sent since the last reset: one EVALSHA, at most one EVAL, nothing else but `others`. */
function assertOneCall(c: Counting, what: string, others: Record<string, number> = {}): void {
  const sent = Object.fromEntries(c.sent);
  assert.equal(sent.EVALSHA, 1, `${what}: ${JSON.stringify(sent)}`);
  assert.ok((sent.EVAL ?? 0) <= 1, `${what}: ${JSON.stringify(sent)}`);
  for (const [cmd, n] of Object.entries(others)) assert.equal(sent[cmd], n, `${what}: ${JSON.stringify(sent)}`);
  assert.equal(c.total(), 1 + (sent.EVAL ?? 0) + Object.values(others).reduce((a, b) => a + b, 0), `${what}: ${JSON.stringify(sent)}`);
}

describe('batched Redis calls (shared server)', () => {
  const prefix = uniquePrefix('iwbatch');
  let admin: TestRedisClient;
  let c: Counting;
  let store: RedisStore;
  let won: Array<ClaimResult & { kind: 'won' }>;

  before(async () => {
    admin = await openClient(SHARED_REDIS_URL);
    c = counting(SHARED_REDIS_URL);
    await ready(c);
    store = new RedisStore(c.connection, prefix);
  });

  after(async () => {
    await store.close();
    await deletePrefix(admin, prefix);
    await admin.close();
  });

  test(`${N} claims for ${N} jobs in one tick: one script call, each won once; a second round is all taken`, async () => {
    const startedMs = (await store.time()) - 1;
    c.reset();
    const results = await claimAll(store, jobs);
    assertOneCall(c, 'first round');
    assert.equal(results.filter((r) => r.kind === 'won').length, N, JSON.stringify(results.find((r) => r.kind !== 'won')));
    won = results as Array<ClaimResult & { kind: 'won' }>;
    assert.equal(new Set(won.map((r) => r.token)).size, N, 'every claim has its own token');
    // Fences are per job: each is the first of its job, so at least the store's clock x 1000.
    assert.ok(won.every((r) => Number.isSafeInteger(r.fence) && r.fence >= startedMs * 1000), 'fences follow the store clock');
    // Recorded server-side, job by job.
    assert.notEqual(await admin.zScore(jobKeys(prefix, jobs[N - 1]!).claims, String(OCCURRENCE)), null);
    assert.equal((JSON.parse((await admin.hGet(jobKeys(prefix, jobs[7]!).holders, won[7]!.token)) ?? '{}') as Holder).instance, 'batch');

    c.reset();
    const again = await claimAll(store, jobs);
    assertOneCall(c, 'second round');
    assert.deepEqual(new Set(again.map((r) => r.kind)), new Set(['taken']));
    // The next occurrence, overlap=skip: every job has a run in progress, named in the reply.
    const next = await claimAll(store, jobs.slice(0, 10), OCCURRENCE + 1_000);
    assert.ok(next.every((r) => r.kind === 'running' && r.holder?.instance === 'batch'), JSON.stringify(next));
  });

  test(`${N} renewals in one tick: one script call; each lock extended, an unknown token not`, async () => {
    assert.ok(won, 'the claims test ran first');
    const before = Number(await admin.zScore(jobKeys(prefix, jobs[0]!).running, won[0]!.token));
    c.reset();
    const renewed = await Promise.all([...won.slice(1).map((r, i) => store.renew(jobs[i + 1]!, r.token, 10 * TTL)), store.renew(jobs[0]!, 'no-such-token', TTL)]);
    assertOneCall(c, 'renewals');
    assert.equal(renewed.slice(0, N - 1).filter((x) => x === true).length, N - 1);
    assert.equal(renewed[N - 1], false, 'an unknown token is not renewed');
    assert.equal(await store.renew(jobs[0]!, won[0]!.token, 10 * TTL), true);
    const afterMs = Number(await admin.zScore(jobKeys(prefix, jobs[0]!).running, won[0]!.token));
    assert.ok(afterMs > before + 8 * TTL, `deadline moved from ${before} to ${afterMs}`);
  });

  test(`${N} releases in one tick: one script call; every lock gone, every occurrence still claimed`, async () => {
    assert.ok(won, 'the claims test ran first');
    c.reset();
    await Promise.all(won.map((r, i) => store.release(jobs[i]!, r.token, false)));
    assertOneCall(c, 'releases');
    const left = await admin.keys(`${prefix}:*:running`);
    assert.deepEqual(left, [], 'no running lock is left');
    const taken = await claimAll(store, jobs.slice(0, 50));
    assert.ok(taken.every((r) => r.kind === 'taken'), 'a release never reopens an occurrence');
    // With nothing running, the next occurrence (skipped as running above for 10 jobs) is won.
    const next = await claimAll(store, jobs.slice(20, 30), OCCURRENCE + 2_000);
    assert.ok(next.every((r) => r.kind === 'won'), JSON.stringify(next));
  });

  test(`${N} history appends in one tick: one script call and one SADD; each job has its record`, async () => {
    const fleet = new RedisFleet(c.connection, prefix, { limit: 5, maxAgeMs: 3_600_000 }, 'redis');
    const now = Date.now();
    const record = (job: string, n: number): RunRecord => ({
      job, mode: 'cron', occurrence: new Date(OCCURRENCE).toISOString(), nominal: new Date(OCCURRENCE).toISOString(), instance: 'batch', fence: n, outcome: 'ok',
      startedAt: null, endedAt: null, durationMs: 1, latenessMs: 0, attempts: 1, manual: false, at: now + n,
    });
    c.reset();
    // Two records for job-0 in the same batch keep their order: the later one is newest.
    await Promise.all([...jobs.slice(0, N - 1).map((job, i) => fleet.append(record(job, i))), fleet.append(record(jobs[0]!, N))]);
    assertOneCall(c, 'appends', { SADD: 1 });
    assert.equal(await admin.sCard(historyJobsKey(prefix)), N - 1);
    assert.deepEqual((await fleet.history(jobs[0]!, 10)).map((r) => r.fence), [N, 0]);
    assert.deepEqual((await fleet.history(jobs[N - 2]!, 10)).map((r) => r.fence), [N - 2]);
  });
});

describe('batched Redis calls (private server)', () => {
  let server: PrivateRedis;
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server.stop();
  });

  test('a server without the script: one EVALSHA, then one EVAL for the whole batch', async () => {
    const c = counting(server.url);
    await ready(c);
    const store = new RedisStore(c.connection, uniquePrefix());
    try {
      const results = await claimAll(store, jobs);
      assert.deepEqual(Object.fromEntries(c.sent), { EVALSHA: 1, EVAL: 1 });
      assert.equal(results.filter((r) => r.kind === 'won').length, N);
    } finally {
      await store.close();
    }
  });

  test('a batch with no answer in time fails every claim with the same slow failure; their locks are released once the server resumes', async () => {
    const prefix = uniquePrefix();
    const c = counting(server.url);
    await ready(c);
    const store = new RedisStore(c.connection, prefix);
    const admin = await openClient(server.url);
    try {
      await claimAll(store, ['warm']); // the script is cached: the late call is an EVALSHA the server runs
      const pauser = await openClient(server.url);
      await pauser.sendCommand(['CLIENT', 'PAUSE', '1000', 'ALL']);
      pauser.destroy();
      const names = jobs.slice(0, 200);
      const t0 = Date.now();
      // One of them must be answered within 150 ms: the whole batch's deadline.
      const each = await Promise.allSettled(names.map((job, i) => store.claim({ job, occurrence: OCCURRENCE + 1_000, holder: holder(`p${i}`), ttlMs: TTL, skipIfRunning: true, timeoutMs: i === 7 ? 150 : 400 })));
      assert.ok(Date.now() - t0 < 350, `the batch's deadline is its smallest: took ${Date.now() - t0} ms`);
      const reasons = each.map((a) => (a.status === 'rejected' ? a.reason : null));
      assert.ok(reasons.every((r) => r !== null), 'every claim failed');
      assert.equal(new Set(reasons).size, 1, 'with one and the same error');
      assert.equal(storeFailureOf(reasons[0])?.store, 'slow', String(reasons[0]));
      // Once the pause ends the server runs the claims (the occurrences are claimed for good) and
      // then the releases of their locks.
      const deadline = Date.now() + 5_000;
      const lockCount = async (): Promise<number> => (await admin.keys(`${prefix}:*:running`)).length;
      while ((await admin.zScore(jobKeys(prefix, names[199]!).claims, String(OCCURRENCE + 1_000))) === null || (await lockCount()) > 1) {
        assert.ok(Date.now() < deadline, `locks left: ${await lockCount()}`);
        await sleep(50);
      }
      assert.deepEqual(await admin.keys(`${prefix}:*:running`), [`${prefix}:{warm}:running`], 'only the warm-up claim still holds a lock');
    } finally {
      await store.close();
      await admin.close();
    }
  });

  test('a malformed script reply is an internal error for its own request, never a default, and its lock is released', async () => {
    const prefix = uniquePrefix();
    let corrupt: ((reply: unknown[]) => unknown) | null = null;
    const c = counting(server.url, (args, reply) => (corrupt && (args[0] === 'EVALSHA' || args[0] === 'EVAL') && Array.isArray(reply) && reply.length > 1 ? corrupt(reply) : reply));
    await ready(c);
    const store = new RedisStore(c.connection, prefix);
    const admin = await openClient(server.url);
    try {
      const names = ['a', 'b', 'c'];
      corrupt = (reply) => reply.map((r, i) => (i === 1 ? ['maybe', 'x'] : r));
      const answers = await Promise.allSettled(names.map((job) => store.claim({ job, occurrence: OCCURRENCE, holder: holder('m'), ttlMs: TTL, skipIfRunning: true })));
      assert.equal(answers[0]!.status, 'fulfilled');
      assert.equal(answers[2]!.status, 'fulfilled');
      assert.equal(answers[1]!.status, 'rejected');
      const err = (answers[1] as PromiseRejectedResult).reason as Error;
      const details = internalErrorOf(err);
      assert.ok(details, String(err));
      assert.equal(details.source, 'the claim-occurrences-5n script');
      assert.deepEqual(details.reply, ['maybe', 'x']);
      assert.match(err.message, /unknown tag 'maybe'/);
      // The script did take b's lock; since its answer was not understood, it is released.
      const deadline = Date.now() + 3_000;
      while ((await admin.zCard(jobKeys(prefix, 'b').running)) > 0) {
        assert.ok(Date.now() < deadline, 'b\'s lock released');
        await sleep(20);
      }
      // A reply with fewer entries than requests fails the whole call.
      corrupt = (reply) => reply.slice(1);
      const short = await Promise.allSettled(['d', 'e'].map((job) => store.claim({ job, occurrence: OCCURRENCE, holder: holder('m'), ttlMs: TTL, skipIfRunning: false })));
      assert.deepEqual(short.map((a) => a.status), ['rejected', 'rejected']);
      assert.match(String((short[0] as PromiseRejectedResult).reason.message), /1 replies for 2 requests/);
      corrupt = null;
    } finally {
      await store.close();
      await admin.close();
    }
  });
});

describe('the embedded store', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'iw-batch-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test(`${N} claims in one tick: one transaction, each won once; a second round is all taken`, async () => {
    const db = openStateDatabase(path.join(dir, `${randomBytes(3).toString('hex')}.sqlite`));
    let transactions = 0;
    const countingDb: Database = {
      get open() {
        return db.open;
      },
      prepare: (sql) => db.prepare(sql),
      exec: (sql) => db.exec(sql),
      pragma: (sql, o) => db.pragma(sql, o),
      transaction: (fn) => {
        const t = db.transaction(fn);
        return { immediate: (...args) => (transactions++, t.immediate(...args)) };
      },
      close: () => db.close(),
    };
    const store = new SqliteStore(countingDb, 'x.sqlite');
    try {
      const results = await claimAll(store, jobs);
      assert.equal(transactions, 1);
      assert.equal(results.filter((r) => r.kind === 'won').length, N);
      const again = await claimAll(store, jobs);
      assert.equal(transactions, 2);
      assert.ok(again.every((r) => r.kind === 'taken'));
      await Promise.all((results as Array<ClaimResult & { kind: 'won' }>).map((r, i) => store.release(jobs[i]!, r.token, false)));
      assert.equal(transactions, 3);
      assert.deepEqual(await store.running(jobs[0]!), []);
    } finally {
      await store.close();
    }
  });
});
