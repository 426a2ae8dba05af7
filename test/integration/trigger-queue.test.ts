/**
 * The fleet trigger queue (src/coordination/triggers.ts), one contract run against both stores:
 * the Redis store on the shared Redis (a unique key prefix) and the embedded store on a state
 * database file, each through two connections (two instances, or two processes of one machine).
 * Then what only one store has: Redis's keys and what it does with values it did not write, the
 * embedded store's forgetting (on a controlled clock) and its migration from schema version 2.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SCHEMA_VERSION } from '../../src/coordination/embedded/schema.js';
import { SqliteStore } from '../../src/coordination/embedded/sqlite-store.js';
import { openStateDatabase } from '../../src/coordination/embedded/sqlite.js';
import { internalErrorOf } from '../../src/coordination/internal-error.js';
import { connectRedis } from '../../src/coordination/redis/client.js';
import { triggerKeys } from '../../src/coordination/redis/keys.js';
import { RedisStore } from '../../src/coordination/redis/redis-store.js';
import { keySlot } from '../../src/coordination/redis/slot.js';
import type { CoordinationStore } from '../../src/coordination/store.js';
import { TRIGGER_KEEP_MS, type TriggerQueue, type TriggerResult } from '../../src/coordination/triggers.js';
import { deletePrefix, openClient, SHARED_REDIS_URL, sleep, uniquePrefix, type TestRedisClient } from '../helpers/redis.js';

const result: TriggerResult = {
  outcome: 'ok',
  reason: null,
  holder: null,
  occurrence: '2024-05-01T10:00:00.000Z',
  fence: 1_714_557_600_000_001,
  startedAt: '2024-05-01T10:00:00.010Z',
  endedAt: '2024-05-01T10:00:01.510Z',
  durationMs: 1_500,
  attempts: 1,
  summary: 'checked 3 users, "quoted" \\ ünïcode / slash',
  error: null,
};

const ask = (job = 'purge', ttlMs = 10_000): { id: string; job: string; by: string; ttlMs: number } => ({ id: randomUUID(), job, by: 'alice@host1', ttlMs });

async function redisStore(prefix: string): Promise<RedisStore> {
  const connection = connectRedis(SHARED_REDIS_URL, { onError: () => {} });
  assert.ok(await connection.ready(5_000), `Redis at ${SHARED_REDIS_URL} not reachable`);
  return new RedisStore(connection, prefix);
}

const prefix = uniquePrefix('iwtrig');
let admin: TestRedisClient;
let dir: string;

before(async () => {
  admin = await openClient();
  dir = await mkdtemp(path.join(tmpdir(), 'iwtest-triggers-'));
});

after(async () => {
  await deletePrefix(admin, prefix);
  await admin.close();
  await rm(dir, { recursive: true, force: true });
});

interface Impl {
  name: string;
  /** Two stores on the same queue: two instances of a fleet, or two processes on one machine. */
  open(): Promise<[CoordinationStore, CoordinationStore]>;
}

const impls: Impl[] = [
  { name: 'redis', open: async () => [await redisStore(prefix), await redisStore(prefix)] },
  {
    name: 'embedded',
    open: async () => {
      const file = path.join(dir, 'contract.sqlite');
      return [SqliteStore.open(file), SqliteStore.open(file)];
    },
  },
];

for (const impl of impls) {
  describe(`trigger queue contract: ${impl.name}`, () => {
    let stores: [CoordinationStore, CoordinationStore];
    let a: TriggerQueue;
    let b: TriggerQueue;

    before(async () => {
      stores = await impl.open();
      [a, b] = [stores[0].triggers(), stores[1].triggers()];
    });

    after(async () => {
      await Promise.all(stores.map((s) => s.close()));
    });

    test('request, pending, one take of two, taken, done with its result', async () => {
      const before = await stores[0].time();
      const req = await a.request(ask());
      assert.equal(req.job, 'purge');
      assert.equal(req.by, 'alice@host1');
      assert.ok(req.at >= before - 5 && req.at <= before + 1_000, `stamped with the store's clock (${req.at}, ${before})`);
      assert.equal(req.expiresAt, req.at + 10_000);
      assert.deepEqual((await b.pending()).filter((r) => r.id === req.id), [req], 'the other instance sees it pending');
      assert.deepEqual(await b.state(req.id), { state: 'pending', request: req });

      const [x, y] = await Promise.all([a.take(req.id, 'inst-a'), b.take(req.id, 'inst-b')]);
      assert.ok((x === null) !== (y === null), `exactly one take wins (${JSON.stringify([x, y])})`);
      const winner = x ? 'inst-a' : 'inst-b';
      const loser = x ? 'inst-b' : 'inst-a';
      assert.deepEqual(x ?? y, req);
      assert.equal((await a.pending()).some((r) => r.id === req.id), false, 'no longer pending');
      const taken = await a.state(req.id);
      assert.equal(taken?.state, 'taken');
      assert.ok(taken.state === 'taken' && taken.instance === winner && taken.at >= req.at);
      assert.equal(await a.take(req.id, loser), null, 'taken once, ever');

      await b.report(req.id, { state: 'taken', instance: winner });
      await a.report(req.id, { state: 'done', instance: loser, result: { ...result, outcome: 'failed' } });
      assert.equal((await b.state(req.id))?.state, 'taken', 'only the instance that took it reports');
      await b.report(req.id, { state: 'done', instance: winner, result });
      const done = await a.state(req.id);
      assert.ok(done?.state === 'done');
      assert.deepEqual({ ...done, at: 0 }, { state: 'done', request: req, instance: winner, at: 0, result });
      assert.ok(done.at >= taken.at);
      await a.report(req.id, { state: 'taken', instance: winner });
      assert.equal((await b.state(req.id))?.state, 'done', 'done never goes back to taken');

      assert.equal(await a.withdraw(req.id), false, 'too late to withdraw');
      assert.deepEqual(await b.request({ ...ask(), id: req.id }), req, 'asking again with a known id answers the request as stored');
      assert.equal((await a.pending()).some((r) => r.id === req.id), false, '... and does not queue it again');
      assert.equal((await a.state(req.id))?.state, 'done');
    });

    test('withdrawn before anyone took it: nobody can take it, and its state is unknown', async () => {
      const req = await a.request(ask());
      assert.equal(await b.withdraw(req.id), true);
      assert.equal(await a.take(req.id, 'inst-a'), null);
      assert.equal(await a.state(req.id), null);
      assert.equal((await b.pending()).some((r) => r.id === req.id), false);
      assert.equal(await a.withdraw(req.id), false, 'withdrawn once');
      await a.report(req.id, { state: 'taken', instance: 'inst-a' });
      assert.equal(await b.state(req.id), null, 'a report of a request nobody took changes nothing');
      assert.equal(await a.withdraw(randomUUID()), false, 'an unknown id');
      assert.equal(await a.take(randomUUID(), 'inst-a'), null);
      assert.equal(await a.state(randomUUID()), null);
    });

    test('an expired request is neither pending nor taken; withdrawing it succeeds', async () => {
      const req = await a.request(ask('purge', 50));
      const other = await a.request(ask('poll'));
      await sleep(100);
      const pending = (await b.pending()).map((r) => r.id);
      assert.equal(pending.includes(req.id), false, 'expired: not pending');
      assert.ok(pending.includes(other.id), 'a live one still is');
      assert.equal(await b.take(req.id, 'inst-b'), null, 'expired: never taken');
      assert.deepEqual(await a.state(req.id), { state: 'pending', request: req }, 'its state stays, past its expiresAt');
      assert.equal(await a.withdraw(req.id), true, 'nobody took it, nobody will');
      assert.equal(await a.state(req.id), null);
      assert.equal(await a.withdraw(other.id), true);
    });

    test('twenty takers at once, through two connections: exactly one wins', async () => {
      const req = await a.request(ask());
      const takes = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).take(req.id, `inst-${i}`)));
      const won = takes.map((t, i) => (t ? i : -1)).filter((i) => i >= 0);
      assert.equal(won.length, 1, `winners: ${won.join(', ')}`);
      const s = await a.state(req.id);
      assert.ok(s?.state === 'taken' && s.instance === `inst-${won[0]}`);
    });

    test('pending is oldest first; a bad lifetime is refused', async () => {
      const made = [];
      for (let i = 0; i < 4; i++) made.push(await a.request(ask(`job-${i}`)));
      const ids = new Set(made.map((r) => r.id));
      const pending = (await b.pending()).filter((r) => ids.has(r.id));
      assert.equal(pending.length, 4);
      assert.deepEqual(pending, [...made].sort((x, y) => x.at - y.at || (x.id < y.id ? -1 : 1)));
      for (const r of made) assert.equal(await a.withdraw(r.id), true);
      for (const ttlMs of [0, -5, Number.NaN]) await assert.rejects(a.request({ ...ask(), ttlMs }), { code: 'INVALID_INPUT' });
    });
  });
}

describe('trigger queue: Redis storage', () => {
  let store: RedisStore;
  let q: TriggerQueue;
  const keys = triggerKeys(prefix);

  before(async () => {
    store = await redisStore(prefix);
    q = store.triggers();
  });

  after(async () => {
    await store.close();
  });

  const internal = (p: Promise<unknown>, source: RegExp): Promise<void> =>
    assert.rejects(p, (err: unknown) => {
      assert.ok(internalErrorOf(err), `an internal error: ${String(err)}`);
      assert.match(internalErrorOf(err)!.source, source);
      return true;
    });

  test('the queue and every state share one slot, none a job\'s; states expire after TRIGGER_KEEP_MS', async () => {
    const id = randomUUID();
    assert.equal(keySlot(keys.queue), keySlot(keys.state(id)));
    assert.equal(keys.queue, `${prefix}:{:triggers}:queue`);
    const req = await q.request({ id, job: 'purge', by: 'alice@host1', ttlMs: 30_000 });
    assert.equal(await admin.hGet(keys.queue, id), JSON.stringify(req), 'the request as JSON in the queue');
    const pending = await admin.pTTL(keys.state(id));
    assert.ok(pending > TRIGGER_KEEP_MS && pending <= TRIGGER_KEEP_MS + 30_000, `pending: kept until its expiry plus TRIGGER_KEEP_MS (pttl ${pending})`);
    assert.ok((await admin.pTTL(keys.queue)) > 0, 'an abandoned queue expires too');
    assert.ok(await q.take(id, 'inst-a'));
    assert.equal(Number(await admin.hExists(keys.queue, id)), 0, 'out of the queue');
    const taken = await admin.pTTL(keys.state(id));
    assert.ok(taken > TRIGGER_KEEP_MS - 5_000 && taken <= TRIGGER_KEEP_MS, `taken: kept TRIGGER_KEEP_MS (pttl ${taken})`);
  });

  test('a state iamwatch did not write is an internal error, never a default; nothing is changed', async () => {
    const id = randomUUID();
    await admin.set(keys.state(id), 'garbage');
    await internal(q.state(id), /trigger state/);
    await internal(q.withdraw(id), /trigger-withdraw-2/);
    await internal(q.report(id, { state: 'taken', instance: 'inst-a' }), /trigger-report-1/);
    assert.equal(await admin.get(keys.state(id)), 'garbage', 'left as it is');
    const req = await q.request({ id, job: 'purge', by: 'alice@host1', ttlMs: 30_000 }).catch((e: unknown) => e);
    assert.ok(internalErrorOf(req), 'asking with that id is an internal error too');
    // A state of the right shape but for another id, or of an unknown kind, is no better.
    const other = { id: randomUUID(), job: 'purge', by: 'x', at: 1, expiresAt: 2 };
    await admin.set(keys.state(id), JSON.stringify({ state: 'pending', request: other }));
    await internal(q.state(id), /trigger state/);
    await admin.set(keys.state(id), JSON.stringify({ state: 'maybe', request: { ...other, id } }));
    await internal(q.state(id), /trigger state/);
    await admin.set(keys.state(id), JSON.stringify({ state: 'done', request: { ...other, id }, instance: 'i', at: 3, result: { outcome: 'ok' } }));
    await internal(q.state(id), /trigger state/);
    await admin.del(keys.state(id));
  });

  test('a queue entry iamwatch did not write: pending and take fail loudly and leave it', async () => {
    const id = randomUUID();
    await admin.hSet(keys.queue, id, '{"id":');
    await internal(q.pending(), /trigger-pending-1/);
    await internal(q.take(id, 'inst-a'), /trigger-take-2/);
    assert.equal(await admin.hGet(keys.queue, id), '{"id":');
    assert.equal(await admin.exists(keys.state(id)), 0, 'not taken');
    await admin.hDel(keys.queue, id);
  });
});

describe('trigger queue: embedded storage', () => {
  test('a request and its state are forgotten TRIGGER_KEEP_MS after they last changed', async () => {
    let t = 1_700_000_000_000;
    const store = SqliteStore.open(path.join(dir, 'clock.sqlite'), () => t);
    try {
      const q = store.triggers();
      const req = await q.request({ id: 'r1', job: 'purge', by: 'alice@host1', ttlMs: 1_000 });
      assert.deepEqual(req, { id: 'r1', job: 'purge', by: 'alice@host1', at: t, expiresAt: t + 1_000 });
      await q.request({ id: 'r2', job: 'poll', by: 'alice@host1', ttlMs: 1_000 });
      t += 999;
      assert.deepEqual(await q.take('r1', 'inst-a'), req);
      t += 1;
      assert.deepEqual(await q.pending(), [], 'r2 expired at its expiresAt');
      assert.equal(await q.take('r2', 'inst-a'), null);
      await q.report('r1', { state: 'done', instance: 'inst-a', result });
      t += TRIGGER_KEEP_MS - 1;
      assert.equal((await q.state('r1'))?.state, 'done');
      assert.equal((await q.state('r2'))?.state, 'pending');
      t += 1;
      assert.equal(await q.state('r1'), null, 'done: forgotten TRIGGER_KEEP_MS after the report');
      assert.equal(await q.state('r2'), null, 'pending: forgotten TRIGGER_KEEP_MS after it expired');
      await q.report('r1', { state: 'done', instance: 'inst-a', result });
      assert.equal(await q.state('r1'), null, 'a report of a forgotten request changes nothing');
      await q.request({ id: 'r3', job: 'purge', by: 'alice@host1', ttlMs: 1_000 });
      const rows = store.db.prepare('SELECT id FROM triggers ORDER BY id').all() as Array<{ id: string }>;
      assert.deepEqual(rows.map((r) => r.id), ['r3'], 'old rows deleted by the next write');
    } finally {
      await store.close();
    }
  });

  test('a result that does not read back is an internal error', async () => {
    const store = SqliteStore.open(path.join(dir, 'bad.sqlite'));
    try {
      const q = store.triggers();
      await q.request({ id: 'r1', job: 'purge', by: 'alice@host1', ttlMs: 10_000 });
      await q.take('r1', 'inst-a');
      await q.report('r1', { state: 'done', instance: 'inst-a', result });
      store.db.prepare("UPDATE triggers SET result = '{\"outcome\":\"ok\"}'").run();
      await assert.rejects(q.state('r1'), (err: unknown) => internalErrorOf(err) !== null);
    } finally {
      await store.close();
    }
  });

  test('a state database of schema version 2 is migrated to the triggers table, its data kept', async () => {
    const file = path.join(dir, 'v2.sqlite');
    const v2 = openStateDatabase(file);
    v2.exec('DROP TABLE triggers');
    v2.pragma('user_version = 2');
    v2.prepare('INSERT INTO claims (job, occurrence) VALUES (?, ?)').run('purge', 5_000);
    v2.prepare('INSERT INTO pauses (job, paused_by, paused_at, until_at, reason) VALUES (?, ?, ?, ?, ?)').run('poll', 'bob@host2', 1_000, null, 'maintenance');
    v2.close();
    const store = SqliteStore.open(file);
    try {
      assert.equal(SCHEMA_VERSION, 3);
      assert.equal(Number(store.db.pragma('user_version', { simple: true })), SCHEMA_VERSION);
      assert.equal(await store.newestClaim('purge'), 5_000, 'claims kept');
      assert.deepEqual((await store.pauses(['poll'])).get('poll'), { by: 'bob@host2', at: 1_000, until: null, reason: 'maintenance' }, 'pauses kept');
      const q = store.triggers();
      const req = await q.request({ id: 'r1', job: 'purge', by: 'alice@host1', ttlMs: 10_000 });
      assert.deepEqual(await q.take('r1', 'inst-a'), req);
    } finally {
      await store.close();
    }
  });
});
