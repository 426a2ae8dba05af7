/**
 * The CoordinationStore contract (src/coordination/store.ts), run against both implementations:
 * RedisStore on a real Redis (the shared server, one key prefix per test) and the embedded
 * SqliteStore on a state database file, once through one connection and once alternating between
 * two connections to the same file (as two iamwatch processes on one machine share it).
 * Lock expiry is real time with short TTLs, so every store sees it the same way.
 * Then: fences and interval generations never go backwards when the store loses its data (a
 * private Redis restarted without persistence, a deleted state database).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SqliteStore } from '../../src/coordination/embedded/sqlite-store.js';
import { stateDatabaseFile } from '../../src/coordination/embedded/sqlite.js';
import { connectRedis } from '../../src/coordination/redis/client.js';
import { jobKeys } from '../../src/coordination/redis/keys.js';
import { RedisStore } from '../../src/coordination/redis/redis-store.js';
import { SCRIPTS } from '../../src/coordination/redis/scripts.js';
import { CLAIM_WINDOW_MS, type CoordinationStore, type Holder } from '../../src/coordination/store.js';
import { deletePrefix, openClient, SHARED_REDIS_URL, sleep, startRedisServer, uniquePrefix, type PrivateRedis, type TestRedisClient } from '../helpers/redis.js';

async function redisStore(url: string, prefix: string): Promise<RedisStore> {
  const connection = connectRedis(url, { onError: () => {} });
  assert.ok(await connection.ready(5_000), `Redis at ${url} not reachable`);
  return new RedisStore(connection, prefix);
}

const holder = (instance: string, occurrence = 0): Holder => ({ instance, occurrence, startedAt: Date.now() });
const jobName = (): string => `job-${randomBytes(3).toString('hex')}`;
/** A base occurrence id: a whole second, so ids look like real cron occurrences. */
const BASE = Math.floor(Date.now() / 1000) * 1000;
const TTL = 30_000;

interface Impl {
  name: string;
  kind: 'redis' | 'embedded';
  open(): Promise<CoordinationStore>;
  cleanup(): Promise<void>;
}

/** Two stores on the same state database, used in turn: every other call goes to the other one. */
function alternating(a: CoordinationStore, b: CoordinationStore): CoordinationStore {
  let n = 0;
  const next = (): CoordinationStore => (n++ % 2 === 0 ? a : b);
  return {
    description: a.description,
    get connected() {
      return a.connected && b.connected;
    },
    fleet: (retention) => a.fleet(retention),
    triggers: () => next().triggers(),
    claim: (req) => next().claim(req),
    claimInterval: (req) => next().claimInterval(req),
    acquire: (req) => next().acquire(req),
    renew: (job, token, ttlMs) => next().renew(job, token, ttlMs),
    release: (job, token, ended) => next().release(job, token, ended),
    newestClaim: (job) => next().newestClaim(job),
    running: (job) => next().running(job),
    pause: (jobs, req) => next().pause(jobs, req),
    resume: (jobs) => next().resume(jobs),
    pauses: (jobs) => next().pauses(jobs),
    time: () => next().time(),
    close: async () => {
      await a.close();
      await b.close();
    },
  };
}

const prefix = uniquePrefix();
let admin: TestRedisClient;
let stateDir: string;

const impls: Impl[] = [
  {
    name: 'redis',
    kind: 'redis',
    open: () => redisStore(SHARED_REDIS_URL, prefix),
    cleanup: () => deletePrefix(admin, prefix),
  },
  { name: 'embedded', kind: 'embedded', open: async () => SqliteStore.open(stateDatabaseFile(stateDir, 'one.conf')), cleanup: async () => {} },
  {
    name: 'embedded, two connections',
    kind: 'embedded',
    open: async () => alternating(SqliteStore.open(stateDatabaseFile(stateDir, 'two.conf')), SqliteStore.open(stateDatabaseFile(stateDir, 'two.conf'))),
    cleanup: async () => {},
  },
];

before(async () => {
  admin = await openClient(SHARED_REDIS_URL);
  stateDir = await mkdtemp(path.join(tmpdir(), 'iw-contract-'));
});

after(async () => {
  await deletePrefix(admin, prefix);
  await admin.close();
  await rm(stateDir, { recursive: true, force: true });
});

const strictlyIncreasing = (xs: number[]): boolean => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

for (const impl of impls) {
  describe(`CoordinationStore contract: ${impl.name}`, () => {
    let store: CoordinationStore;
    before(async () => {
      store = await impl.open();
      assert.equal(store.description.kind, impl.kind);
    });
    after(async () => {
      await store.close();
      await impl.cleanup();
    });

    test('an occurrence is claimed once only, by whoever comes first, even after its release', async () => {
      const job = jobName();
      const first = await store.claim({ job, occurrence: BASE, holder: holder('a', BASE), ttlMs: TTL, skipIfRunning: false });
      assert.equal(first.kind, 'won');
      assert.deepEqual(await store.claim({ job, occurrence: BASE, holder: holder('b', BASE), ttlMs: TTL, skipIfRunning: false }), { kind: 'taken' });
      // The same instance asking again is refused too.
      assert.deepEqual(await store.claim({ job, occurrence: BASE, holder: holder('a', BASE), ttlMs: TTL, skipIfRunning: false }), { kind: 'taken' });
      if (first.kind !== 'won') return;
      // A 1 ms run: released at once. The occurrence stays claimed, with either `ended` value.
      await store.release(job, first.token, false);
      assert.deepEqual(await store.claim({ job, occurrence: BASE, holder: holder('c', BASE), ttlMs: TTL, skipIfRunning: false }), { kind: 'taken' });
      await store.release(job, first.token, true);
      assert.deepEqual(await store.claim({ job, occurrence: BASE, holder: holder('c', BASE), ttlMs: TTL, skipIfRunning: true }), { kind: 'taken' });
      assert.equal(await store.newestClaim(job), BASE);
      assert.deepEqual(await store.running(job), []);
    });

    test('concurrent claims of one occurrence: exactly one wins', async () => {
      const job = jobName();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.claim({ job, occurrence: BASE, holder: holder(`i${i}`, BASE), ttlMs: TTL, skipIfRunning: false })),
      );
      assert.equal(results.filter((r) => r.kind === 'won').length, 1);
      assert.equal(results.filter((r) => r.kind === 'taken').length, 19);
    });

    test('ids at or beyond CLAIM_WINDOW_MS behind the newest claim are refused as late', async () => {
      const job = jobName();
      assert.equal((await store.claim({ job, occurrence: BASE, holder: holder('a'), ttlMs: TTL, skipIfRunning: false })).kind, 'won');
      assert.deepEqual(await store.claim({ job, occurrence: BASE - CLAIM_WINDOW_MS, holder: holder('b'), ttlMs: TTL, skipIfRunning: false }), { kind: 'late' });
      assert.deepEqual(await store.claim({ job, occurrence: BASE - 10 * CLAIM_WINDOW_MS, holder: holder('b'), ttlMs: TTL, skipIfRunning: false }), { kind: 'late' });
      // Inside the window an older, never-claimed id can still be claimed (a late-but-tolerated instance).
      assert.equal((await store.claim({ job, occurrence: BASE - CLAIM_WINDOW_MS + 1_000, holder: holder('b'), ttlMs: TTL, skipIfRunning: false })).kind, 'won');
      assert.equal(await store.newestClaim(job), BASE);
    });

    test('trimming old claims never reopens them', async () => {
      const job = jobName();
      const ids = [BASE, BASE + 1_000, BASE + 2_000];
      for (const id of ids) assert.equal((await store.claim({ job, occurrence: id, holder: holder('a', id), ttlMs: TTL, skipIfRunning: false })).kind, 'won');
      // A claim far ahead trims everything behind the window...
      const far = BASE + 5 * CLAIM_WINDOW_MS;
      assert.equal((await store.claim({ job, occurrence: far, holder: holder('a', far), ttlMs: TTL, skipIfRunning: false })).kind, 'won');
      if (impl.name === 'redis') {
        assert.equal(await admin.zCard(jobKeys(prefix, job).claims), 1, 'old claims are trimmed');
      }
      // ...and the trimmed ids are refused as late, never won again.
      for (const id of ids) {
        const r = await store.claim({ job, occurrence: id, holder: holder('b', id), ttlMs: TTL, skipIfRunning: false });
        assert.equal(r.kind, 'late', `trimmed occurrence ${id} reopened: ${r.kind}`);
      }
      assert.equal(await store.newestClaim(job), far);
    });

    test('the fencing token is strictly increasing across claims, interval generations and manual runs', async () => {
      const job = jobName();
      const fences: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await store.claim({ job, occurrence: BASE + i * 1_000, holder: holder('a'), ttlMs: TTL, skipIfRunning: false });
        assert.equal(r.kind, 'won');
        if (r.kind !== 'won') continue;
        fences.push(r.fence);
        if (i % 2 === 0) await store.release(job, r.token, false);
      }
      assert.ok(strictlyIncreasing(fences), `claims: ${fences.join(',')}`);

      const ijob = jobName();
      const ifences: number[] = [];
      const gens: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await store.claimInterval({ job: ijob, holder: holder('a'), ttlMs: TTL, intervalMs: 1 });
        assert.equal(r.kind, 'won', JSON.stringify(r));
        if (r.kind !== 'won') continue;
        gens.push(r.generation);
        ifences.push(r.fence);
        await store.release(ijob, r.token, true);
        await sleep(5);
      }
      assert.ok(strictlyIncreasing(ifences), `interval: ${ifences.join(',')}`);
      assert.ok(strictlyIncreasing(gens), `generations: ${gens.join(',')}`);

      const mjob = jobName();
      const mfences: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await store.acquire({ job: mjob, holder: { ...holder('m'), manual: true }, ttlMs: TTL });
        assert.equal(r.kind, 'won');
        if (r.kind !== 'won') continue;
        mfences.push(r.fence);
        await store.release(mjob, r.token, false);
      }
      assert.ok(strictlyIncreasing(mfences), `manual: ${mfences.join(',')}`);

      // Mixed on one job: an occurrence claim, a manual run, another claim.
      const xjob = jobName();
      const a = await store.claim({ job: xjob, occurrence: BASE, holder: holder('a'), ttlMs: TTL, skipIfRunning: false });
      assert.equal(a.kind, 'won');
      if (a.kind === 'won') await store.release(xjob, a.token, false);
      const m = await store.acquire({ job: xjob, holder: holder('m'), ttlMs: TTL });
      assert.equal(m.kind, 'won');
      if (m.kind === 'won') await store.release(xjob, m.token, false);
      const b = await store.claim({ job: xjob, occurrence: BASE + 1_000, holder: holder('b'), ttlMs: TTL, skipIfRunning: false });
      assert.ok(a.kind === 'won' && m.kind === 'won' && b.kind === 'won' && a.fence < m.fence && m.fence < b.fence);
    });

    test('overlap=allow: a claim while another run is in progress wins; overlap=skip consumes the occurrence', async () => {
      const job = jobName();
      const first = await store.claim({ job, occurrence: BASE, holder: holder('a', BASE), ttlMs: TTL, skipIfRunning: true });
      assert.equal(first.kind, 'won');
      const allowed = await store.claim({ job, occurrence: BASE + 1_000, holder: holder('b', BASE + 1_000), ttlMs: TTL, skipIfRunning: false });
      assert.equal(allowed.kind, 'won', 'overlap=allow runs side by side');
      if (allowed.kind === 'won') await store.release(job, allowed.token, false);

      const skipped = await store.claim({ job, occurrence: BASE + 2_000, holder: holder('b', BASE + 2_000), ttlMs: TTL, skipIfRunning: true });
      assert.equal(skipped.kind, 'running');
      if (skipped.kind === 'running') assert.equal(skipped.holder?.instance, 'a', 'the skip names the holder');
      if (first.kind === 'won') await store.release(job, first.token, false);
      // The skipped occurrence was consumed: nobody can run it after the holder finished.
      assert.deepEqual(await store.claim({ job, occurrence: BASE + 2_000, holder: holder('c', BASE + 2_000), ttlMs: TTL, skipIfRunning: true }), { kind: 'taken' });
      assert.deepEqual(await store.claim({ job, occurrence: BASE + 2_000, holder: holder('c', BASE + 2_000), ttlMs: TTL, skipIfRunning: false }), { kind: 'taken' });
      // With nothing running, the next occurrence is won.
      assert.equal((await store.claim({ job, occurrence: BASE + 3_000, holder: holder('c'), ttlMs: TTL, skipIfRunning: true })).kind, 'won');
    });

    test('interval: won, running while held, wait after the end, won again once due', async () => {
      const job = jobName();
      const intervalMs = 400;
      const a = await store.claimInterval({ job, holder: holder('a'), ttlMs: TTL, intervalMs });
      assert.equal(a.kind, 'won');
      if (a.kind !== 'won') return;
      const first = await store.time();
      assert.ok(Math.abs(a.due - first) < 1_000, `a first run is due when claimed: due ${a.due}, now ${first}`);
      const busy = await store.claimInterval({ job, holder: holder('b'), ttlMs: TTL, intervalMs });
      assert.equal(busy.kind, 'running');
      if (busy.kind === 'running') {
        assert.equal(busy.holder?.instance, 'a');
        assert.ok(busy.ms > TTL - 2_000 && busy.ms <= TTL, `ms until the lock expires: ${busy.ms}`);
      }
      await store.release(job, a.token, true);
      const endedAt = await store.time();
      const wait = await store.claimInterval({ job, holder: holder('b'), ttlMs: TTL, intervalMs });
      assert.equal(wait.kind, 'wait');
      if (wait.kind === 'wait') assert.ok(wait.ms > intervalMs - 200 && wait.ms <= intervalMs, `wait ${wait.ms}`);
      await sleep(intervalMs + 50);
      const b = await store.claimInterval({ job, holder: holder('b'), ttlMs: TTL, intervalMs });
      assert.equal(b.kind, 'won');
      if (b.kind === 'won') {
        assert.ok(b.generation > a.generation, `generation ${b.generation} after ${a.generation}`);
        assert.ok(b.fence > a.fence);
        // Due the interval after the previous end, on the store's clock: every instance agrees.
        assert.ok(b.due >= endedAt - 50 + intervalMs && b.due <= endedAt + intervalMs + 50, `due ${b.due - endedAt} ms after the end`);
        // A release without `ended` (not an interval run) records no end: the next generation isn't due.
        await store.release(job, b.token, false);
      }
    });

    test('interval: a crashed holder (lock expired, never released) counts as ended at its lock deadline', async () => {
      const job = jobName();
      const a = await store.claimInterval({ job, holder: holder('dead'), ttlMs: 300, intervalMs: 60_000 });
      assert.equal(a.kind, 'won');
      const before = await store.claimInterval({ job, holder: holder('b'), ttlMs: TTL, intervalMs: 1_000 });
      assert.equal(before.kind, 'running');
      await sleep(450);
      // Expired 150 ms ago: the next generation is due 1 s after the deadline, not 1 s from now.
      const wait = await store.claimInterval({ job, holder: holder('b'), ttlMs: TTL, intervalMs: 1_000 });
      assert.equal(wait.kind, 'wait', JSON.stringify(wait));
      if (wait.kind === 'wait') assert.ok(wait.ms <= 900 && wait.ms > 600, `wait ${wait.ms}`);
      assert.deepEqual(await store.running(job), []);
      const b = await store.claimInterval({ job, holder: holder('b'), ttlMs: TTL, intervalMs: 100 });
      assert.equal(b.kind, 'won');
      if (b.kind === 'won' && a.kind === 'won') {
        assert.ok(b.generation > a.generation, `generation ${b.generation} after ${a.generation}`);
        assert.ok(b.fence > a.fence);
        // The dead holder's late release must not record an end or disturb the new run.
        await store.release(job, a.token, true);
        assert.equal((await store.running(job)).length, 1);
        assert.equal((await store.claimInterval({ job, holder: holder('c'), ttlMs: TTL, intervalMs: 100 })).kind, 'running');
      }
    });

    test('renew: true while held, false for an unknown token, after release and after expiry', async () => {
      const job = jobName();
      const r = await store.claim({ job, occurrence: BASE, holder: holder('a'), ttlMs: 300, skipIfRunning: false });
      assert.equal(r.kind, 'won');
      if (r.kind !== 'won') return;
      assert.equal(await store.renew(job, 'no-such-token', TTL), false);
      // Renewal keeps it alive past its original deadline.
      for (let i = 0; i < 3; i++) {
        await sleep(150);
        assert.equal(await store.renew(job, r.token, 300), true);
      }
      const [running] = await store.running(job);
      assert.equal(running?.instance, 'a');
      assert.ok(running!.expiresAt > Date.now() + 100);
      await sleep(450);
      assert.equal(await store.renew(job, r.token, TTL), false, 'an expired lock is not revived by renew');
      assert.deepEqual(await store.running(job), []);

      const s = await store.claim({ job, occurrence: BASE + 1_000, holder: holder('a'), ttlMs: TTL, skipIfRunning: false });
      assert.equal(s.kind, 'won');
      if (s.kind !== 'won') return;
      await store.release(job, s.token, false);
      assert.equal(await store.renew(job, s.token, TTL), false);
      assert.equal(await store.renew(jobName(), s.token, TTL), false, 'a token is only valid for its job');
    });

    test('release never reopens an occurrence, and releasing a foreign or stale token touches nothing', async () => {
      const job = jobName();
      const a = await store.claim({ job, occurrence: BASE, holder: holder('a'), ttlMs: TTL, skipIfRunning: false });
      const b = await store.claim({ job, occurrence: BASE + 1_000, holder: holder('b'), ttlMs: TTL, skipIfRunning: false });
      assert.ok(a.kind === 'won' && b.kind === 'won');
      await store.release(job, 'not-a-token', true);
      await store.release(jobName(), a.token, true);
      assert.equal((await store.running(job)).length, 2);
      await store.release(job, a.token, false);
      await store.release(job, a.token, false); // twice: harmless
      assert.deepEqual((await store.running(job)).map((h) => h.instance), ['b']);
      for (const id of [BASE, BASE + 1_000]) {
        assert.deepEqual(await store.claim({ job, occurrence: id, holder: holder('c'), ttlMs: TTL, skipIfRunning: false }), { kind: 'taken' });
      }
      await store.release(job, b.token, true);
      assert.deepEqual(await store.running(job), []);
      assert.equal(await store.newestClaim(job), BASE + 1_000);
    });

    test('acquire (manual run) refuses while any run is in progress and names the holder', async () => {
      const job = jobName();
      const r = await store.claim({ job, occurrence: BASE, holder: holder('fleet-1', BASE), ttlMs: TTL, skipIfRunning: false });
      assert.equal(r.kind, 'won');
      const refused = await store.acquire({ job, holder: { ...holder('cli'), manual: true }, ttlMs: TTL });
      assert.equal(refused.kind, 'running');
      if (refused.kind === 'running') assert.deepEqual({ instance: refused.holder?.instance, occurrence: refused.holder?.occurrence }, { instance: 'fleet-1', occurrence: BASE });
      if (r.kind === 'won') await store.release(job, r.token, false);
      const manual = await store.acquire({ job, holder: { ...holder('cli'), manual: true }, ttlMs: TTL });
      assert.equal(manual.kind, 'won');
      // While the manual run holds the lock: overlap=skip occurrences and intervals wait, a second manual run is refused.
      const skip = await store.claim({ job, occurrence: BASE + 1_000, holder: holder('fleet-2'), ttlMs: TTL, skipIfRunning: true });
      assert.equal(skip.kind, 'running');
      if (skip.kind === 'running') assert.equal(skip.holder?.manual, true);
      assert.equal((await store.acquire({ job, holder: holder('cli-2'), ttlMs: TTL })).kind, 'running');
      if (manual.kind === 'won') await store.release(job, manual.token, false);
      // An interval run in progress blocks a manual run too.
      const ijob = jobName();
      const i = await store.claimInterval({ job: ijob, holder: holder('fleet-3'), ttlMs: TTL, intervalMs: 1_000 });
      assert.equal(i.kind, 'won');
      const r2 = await store.acquire({ job: ijob, holder: holder('cli'), ttlMs: TTL });
      assert.equal(r2.kind, 'running');
      if (r2.kind === 'running') assert.equal(r2.holder?.instance, 'fleet-3');
    });

    test('acquire after the holder crashed: its lock expires within the TTL', async () => {
      const job = jobName();
      assert.equal((await store.claim({ job, occurrence: BASE, holder: holder('dead'), ttlMs: 300, skipIfRunning: false })).kind, 'won');
      assert.equal((await store.acquire({ job, holder: holder('cli'), ttlMs: TTL })).kind, 'running');
      await sleep(400);
      assert.equal((await store.acquire({ job, holder: holder('cli'), ttlMs: TTL })).kind, 'won');
    });

    test('fences and generations follow the store clock: a fence is at least its ms x 1000, a generation at least its ms', async () => {
      const job = jobName();
      const before = await store.time();
      const c = await store.claim({ job, occurrence: BASE, holder: holder('a'), ttlMs: TTL, skipIfRunning: false });
      const m = await store.acquire({ job: jobName(), holder: holder('m'), ttlMs: TTL });
      const i = await store.claimInterval({ job: jobName(), holder: holder('i'), ttlMs: TTL, intervalMs: 1_000 });
      const afterMs = await store.time();
      assert.ok(c.kind === 'won' && m.kind === 'won' && i.kind === 'won');
      for (const fence of [c.fence, m.fence, i.fence]) {
        assert.ok(Number.isSafeInteger(fence), `fence ${fence} is an exact integer`);
        assert.ok(fence >= before * 1000 && fence <= (afterMs + 1) * 1000, `fence ${fence} vs clock ${before}..${afterMs}`);
      }
      assert.ok(Number.isSafeInteger(i.generation) && i.generation >= before && i.generation <= afterMs + 1, `generation ${i.generation} vs clock ${before}..${afterMs}`);
      // Several in one millisecond still increase, by one each.
      await store.release(job, c.token, false);
      const burst = [c.fence];
      for (let n = 0; n < 20; n++) {
        const r = await store.acquire({ job, holder: holder('b'), ttlMs: TTL });
        assert.equal(r.kind, 'won');
        if (r.kind !== 'won') continue;
        burst.push(r.fence);
        await store.release(job, r.token, false);
      }
      assert.ok(strictlyIncreasing(burst), `fences ${burst.join(',')}`);
    });

    test('pause: a paused occurrence is consumed (claimed, never run, no lock), other jobs unaffected; resume lets the next one run', async () => {
      const job = jobName();
      const other = jobName();
      const before = await store.time();
      const set = await store.pause([job], { by: 'alice@host1', until: null, reason: 'db migration' });
      const pause = set.get(job);
      assert.ok(pause, 'pause() answers the pause it stored');
      assert.equal(pause.by, 'alice@host1');
      assert.equal(pause.reason, 'db migration');
      assert.equal(pause.until, null);
      assert.ok(pause.at >= before && pause.at <= (await store.time()), `at ${pause.at} is the store's clock`);
      assert.deepEqual(await store.pauses([job, other]), new Map([[job, pause]]));
      // overlap=skip or not, a paused occurrence is answered paused, with the pause.
      assert.deepEqual(await store.claim({ job, occurrence: BASE, holder: holder('a', BASE), ttlMs: TTL, skipIfRunning: false }), { kind: 'paused', pause });
      assert.deepEqual(await store.claim({ job, occurrence: BASE + 1_000, holder: holder('b', BASE + 1_000), ttlMs: TTL, skipIfRunning: true }), { kind: 'paused', pause });
      assert.deepEqual(await store.running(job), [], 'no running lock taken');
      assert.equal((await store.claim({ job: other, occurrence: BASE, holder: holder('a', BASE), ttlMs: TTL, skipIfRunning: false })).kind, 'won', 'another job still runs');
      const lifted = await store.resume([job, other]);
      assert.deepEqual(lifted, new Map([[job, pause]]), 'resume says which were paused, with the pause lifted');
      assert.deepEqual(await store.pauses([job]), new Map());
      // Consumed: the paused occurrences never run later, even once resumed.
      assert.deepEqual(await store.claim({ job, occurrence: BASE, holder: holder('c', BASE), ttlMs: TTL, skipIfRunning: false }), { kind: 'taken' });
      assert.deepEqual(await store.claim({ job, occurrence: BASE + 1_000, holder: holder('c', BASE + 1_000), ttlMs: TTL, skipIfRunning: false }), { kind: 'taken' });
      assert.equal((await store.claim({ job, occurrence: BASE + 2_000, holder: holder('c', BASE + 2_000), ttlMs: TTL, skipIfRunning: false })).kind, 'won');
      assert.deepEqual(await store.resume([job]), new Map(), 'resuming again: nothing was paused');
    });

    test('pause: a late or taken occurrence keeps its answer; pausing again replaces the pause', async () => {
      const job = jobName();
      assert.equal((await store.claim({ job, occurrence: BASE + CLAIM_WINDOW_MS, holder: holder('a'), ttlMs: TTL, skipIfRunning: false })).kind, 'won');
      await store.pause([job], { by: 'alice@host1', until: null, reason: null });
      const second = (await store.pause([job], { by: 'bob@host2', until: null, reason: 'again' })).get(job);
      assert.equal(second?.by, 'bob@host2');
      assert.deepEqual((await store.pauses([job])).get(job), second);
      assert.deepEqual(await store.claim({ job, occurrence: BASE + CLAIM_WINDOW_MS, holder: holder('b'), ttlMs: TTL, skipIfRunning: false }), { kind: 'taken' });
      assert.deepEqual(await store.claim({ job, occurrence: BASE, holder: holder('b'), ttlMs: TTL, skipIfRunning: false }), { kind: 'late' });
      await store.resume([job]);
    });

    test('pause: interval claims and once are refused paused and take nothing; an interval not yet due still waits', async () => {
      const job = jobName();
      const first = await store.claimInterval({ job, holder: holder('a'), ttlMs: TTL, intervalMs: 300 });
      assert.ok(first.kind === 'won');
      await store.release(job, first.token, true);
      const pause = (await store.pause([job], { by: 'alice@host1', until: null, reason: 'migration' })).get(job)!;
      assert.equal((await store.claimInterval({ job, holder: holder('a'), ttlMs: TTL, intervalMs: 300 })).kind, 'wait', 'not due yet: wait, as without a pause');
      await sleep(350);
      assert.deepEqual(await store.claimInterval({ job, holder: holder('a'), ttlMs: TTL, intervalMs: 300 }), { kind: 'paused', pause });
      assert.deepEqual(await store.acquire({ job, holder: holder('cli'), ttlMs: TTL }), { kind: 'paused', pause });
      assert.deepEqual(await store.running(job), [], 'nothing taken');
      await store.resume([job]);
      const next = await store.claimInterval({ job, holder: holder('a'), ttlMs: TTL, intervalMs: 300 });
      assert.ok(next.kind === 'won', 'resumed: the next generation starts');
      assert.ok(next.generation > first.generation);
      await store.release(job, next.token, true);
      assert.equal((await store.acquire({ job, holder: holder('cli'), ttlMs: TTL })).kind, 'won');
    });

    test('pause --until: the pause lifts itself at `until` on the store clock', async () => {
      const job = jobName();
      const until = (await store.time()) + 400;
      const pause = (await store.pause([job], { by: 'alice@host1', until, reason: null })).get(job)!;
      assert.equal(pause.until, until);
      assert.deepEqual(await store.claim({ job, occurrence: BASE, holder: holder('a'), ttlMs: TTL, skipIfRunning: false }), { kind: 'paused', pause });
      await sleep(500);
      assert.deepEqual(await store.pauses([job]), new Map(), 'expired: not listed');
      assert.equal((await store.claim({ job, occurrence: BASE + 1_000, holder: holder('a'), ttlMs: TTL, skipIfRunning: false })).kind, 'won');
      assert.deepEqual(await store.resume([job]), new Map(), 'an expired pause is not lifted by resume: it was gone');
    });

    test('pauses() of many jobs (more than one batch): exactly the paused ones', async () => {
      const base = jobName();
      const jobs = Array.from({ length: 2_050 }, (_, i) => `${base}-${i}`);
      const paused = [jobs[3]!, jobs[1_999]!, jobs[2_000]!, jobs[2_049]!];
      await store.pause(paused, { by: 'ops@host', until: null, reason: 'batch' });
      assert.deepEqual([...(await store.pauses(jobs)).keys()].sort(), [...paused].sort());
      assert.deepEqual([...(await store.resume(jobs)).keys()].sort(), [...paused].sort());
      assert.equal((await store.pauses(jobs)).size, 0);
    });

    test('time() is the store clock, close to this one (same host)', async () => {
      const t = await store.time();
      assert.ok(Math.abs(t - Date.now()) < 1_000, `store time ${t} vs ${Date.now()}`);
    });
  });
}

describe('RedisStore on a private server', () => {
  let server: PrivateRedis;
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server.stop();
  });

  test('NOSCRIPT: after SCRIPT FLUSH every script falls back to EVAL and the semantics hold', async () => {
    const p = uniquePrefix();
    const store = await redisStore(server.url, p);
    const client = await openClient(server.url);
    try {
      const job = jobName();
      const a = await store.claim({ job, occurrence: BASE, holder: holder('a'), ttlMs: TTL, skipIfRunning: false });
      assert.equal(a.kind, 'won');
      await client.sendCommand(['SCRIPT', 'FLUSH']);
      const shas = [SCRIPTS.claimOccurrences.sha, SCRIPTS.renew.sha, SCRIPTS.release.sha, SCRIPTS.claimIntervals.sha];
      assert.deepEqual(await client.sendCommand(['SCRIPT', 'EXISTS', ...shas]), [0, 0, 0, 0]);
      assert.deepEqual(await store.claim({ job, occurrence: BASE, holder: holder('b'), ttlMs: TTL, skipIfRunning: false }), { kind: 'taken' });
      await client.sendCommand(['SCRIPT', 'FLUSH']);
      if (a.kind === 'won') {
        assert.equal(await store.renew(job, a.token, TTL), true);
        await client.sendCommand(['SCRIPT', 'FLUSH']);
        await store.release(job, a.token, false);
      }
      assert.deepEqual(await store.running(job), []);
      assert.deepEqual(await store.claim({ job, occurrence: BASE, holder: holder('b'), ttlMs: TTL, skipIfRunning: false }), { kind: 'taken' });
      // EVAL cached them again: EVALSHA works from here on.
      assert.deepEqual(await client.sendCommand(['SCRIPT', 'EXISTS', ...shas]), [1, 0, 1, 0]);
      const ijob = jobName();
      const i = await store.claimInterval({ job: ijob, holder: holder('a'), ttlMs: TTL, intervalMs: 1_000 });
      assert.equal(i.kind, 'won');
      if (i.kind === 'won') assert.equal(await store.renew(ijob, i.token, TTL), true);
      assert.deepEqual(await client.sendCommand(['SCRIPT', 'EXISTS', ...shas]), [1, 1, 1, 1]);
      // `once` too: refused while the interval run holds the lock, even with nothing cached.
      await client.sendCommand(['SCRIPT', 'FLUSH']);
      assert.equal((await store.acquire({ job: ijob, holder: holder('m'), ttlMs: TTL })).kind, 'running');
      assert.deepEqual(await client.sendCommand(['SCRIPT', 'EXISTS', SCRIPTS.acquire.sha]), [1]);
    } finally {
      await store.close();
      await client.close();
    }
  });

  test('keys live under the prefix with the job as a Redis Cluster hash tag', async () => {
    const p = uniquePrefix();
    const store = await redisStore(server.url, p);
    const client = await openClient(server.url);
    try {
      const r = await store.claim({ job: 'purge', occurrence: BASE, holder: holder('a'), ttlMs: TTL, skipIfRunning: false });
      assert.equal(r.kind, 'won');
      const keys = (await client.keys(`${p}:*`)).sort();
      assert.deepEqual(keys, [`${p}:{purge}:claims`, `${p}:{purge}:holders`, `${p}:{purge}:running`, `${p}:{purge}:state`]);
      // No TTL on the claims: they are trimmed by the claim window, never expired.
      assert.equal(await client.pTTL(`${p}:{purge}:claims`), -1);
    } finally {
      await store.close();
      await client.close();
    }
  });
});

describe('fences and interval generations never go backwards when the store loses its data', () => {
  const jobs = ['purge', 'disable', 'poll'];

  /** Takes fences (claims, manual runs, interval runs) and interval generations on a few jobs. */
  async function take(store: CoordinationStore): Promise<{ fences: number[]; generations: number[] }> {
    const fences: number[] = [];
    const generations: number[] = [];
    for (const job of jobs) {
      for (let i = 0; i < 3; i++) {
        const c = await store.claim({ job, occurrence: BASE + i * 1_000, holder: holder('a'), ttlMs: TTL, skipIfRunning: false });
        assert.equal(c.kind, 'won', JSON.stringify(c));
        if (c.kind !== 'won') continue;
        fences.push(c.fence);
        await store.release(job, c.token, false);
      }
      const m = await store.acquire({ job, holder: holder('m'), ttlMs: TTL });
      assert.equal(m.kind, 'won');
      if (m.kind === 'won') {
        fences.push(m.fence);
        await store.release(job, m.token, false);
      }
      for (let i = 0; i < 3; i++) {
        const r = await store.claimInterval({ job: `${job}-every`, holder: holder('i'), ttlMs: TTL, intervalMs: 1 });
        assert.equal(r.kind, 'won', JSON.stringify(r));
        if (r.kind !== 'won') continue;
        fences.push(r.fence);
        generations.push(r.generation);
        await store.release(`${job}-every`, r.token, true);
        await sleep(3);
      }
    }
    assert.ok(strictlyIncreasing(generations.slice(0, 3)), `generations ${generations.join(',')}`);
    return { fences, generations };
  }

  function assertAllLarger(before: { fences: number[]; generations: number[] }, after: { fences: number[]; generations: number[] }): void {
    assert.ok(Math.min(...after.fences) > Math.max(...before.fences), `fences after the loss ${after.fences.join(',')} vs before ${before.fences.join(',')}`);
    assert.ok(
      Math.min(...after.generations) > Math.max(...before.generations),
      `generations after the loss ${after.generations.join(',')} vs before ${before.generations.join(',')}`,
    );
  }

  test('Redis restarted without persistence: every new fence and generation is larger than any before', async () => {
    const server = await startRedisServer();
    const p = uniquePrefix();
    try {
      const first = await redisStore(server.url, p);
      const before = await take(first);
      await first.close();
      await server.restart();
      const client = await openClient(server.url);
      assert.deepEqual(await client.keys(`${p}:*`), [], 'the restart lost every key');
      await client.close();
      const second = await redisStore(server.url, p);
      const after = await take(second);
      await second.close();
      assertAllLarger(before, after);
    } finally {
      await server.stop();
    }
  });

  test('embedded: a deleted state database: every new fence and generation is larger than any before', async () => {
    const file = stateDatabaseFile(stateDir, 'lost.conf');
    const first = SqliteStore.open(file);
    const before = await take(first);
    await first.close();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) await rm(f, { force: true });
    // A fresh store a few milliseconds later (the clock is what carries the fences over the loss).
    await sleep(5);
    const second = SqliteStore.open(file);
    assert.equal(await second.newestClaim('purge'), null, 'the claims are gone');
    const after = await take(second);
    await second.close();
    assertAllLarger(before, after);
  });
});
