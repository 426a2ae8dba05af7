/**
 * The observers' building blocks against real Redis and real files: run-history retention by
 * count and age (Redis lists and the local state directory), heartbeat expiry, webhook retries
 * with backoff (and none on a 4xx), and the health check's reasons.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectRedis, type RedisConnection } from '../../src/coordination/redis/client.js';
import { SqliteStore } from '../../src/coordination/embedded/sqlite-store.js';
import { stateDatabaseFile } from '../../src/coordination/embedded/sqlite.js';
import type { JobSpec } from '../../src/jobsfile/job.js';
import { EmbeddedFleet } from '../../src/coordination/embedded/embedded-fleet.js';
import { RedisFleet } from '../../src/coordination/redis/redis-fleet.js';
import { checkHealth } from '../../src/observe/health.js';
import type { Logger } from '../../src/base/logger.js';
import { NotifySink } from '../../src/observe/notify.js';
import type { Heartbeat, RunRecord } from '../../src/coordination/records.js';
import { deletePrefix, openClient, SHARED_REDIS_URL, sleep, uniquePrefix } from '../helpers/redis.js';

const warnings: string[] = [];
const log: Logger = { debug: () => {}, info: () => {}, warn: (a: unknown, b?: string) => void warnings.push(String(b ?? a)), error: () => {}, child: () => log };
let redis: RedisConnection;
let dir: string;
const prefix = uniquePrefix('iwstore');

before(async () => {
  redis = connectRedis(SHARED_REDIS_URL, { onError: () => {} });
  assert.ok(await redis.ready(5_000), 'shared Redis is up');
  dir = await mkdtemp(path.join(tmpdir(), 'iw-stores-'));
});

after(async () => {
  const c = await openClient();
  await deletePrefix(c, prefix);
  await c.close();
  await redis.close();
  await rm(dir, { recursive: true, force: true });
});

function rec(job: string, at: number, n: number): RunRecord {
  return { job, mode: 'cron', occurrence: new Date(at).toISOString(), nominal: new Date(at).toISOString(), instance: `i${n}`, fence: n, outcome: 'ok', startedAt: null, endedAt: null, durationMs: 1, latenessMs: 0, attempts: 1, manual: false, at };
}

const beat = (instance: string, now: number): Heartbeat => ({ instance, host: 'h', pid: 1, version: '0', startedAt: now, lastBeat: now, skewMs: 0, jobs: 1, configHash: 'abc123abc123', state: 'running', running: [] });

test('Redis history keeps the newest HISTORY_LIMIT records per job and drops those older than HISTORY_MAX_AGE', async () => {
  const now = Date.now();
  const fleet = new RedisFleet(redis, prefix, { limit: 3, maxAgeMs: 60_000 }, 'redis://:***@x');
  await fleet.append(rec('a', now - 120_000, 0)); // already too old
  for (let i = 1; i <= 5; i++) await fleet.append(rec('a', now - 10_000 + i, i));
  await fleet.append(rec('b', now, 9));
  assert.deepEqual((await fleet.history('a', 100)).map((r) => r.fence), [5, 4, 3]);
  assert.deepEqual(await fleet.historyJobs(), ['a', 'b']);
  const fresh = new RedisFleet(redis, prefix, { limit: 10, maxAgeMs: 60_000 }, 'redis://x');
  await fresh.append(rec('c', now - 120_000, 1));
  await fresh.append(rec('c', now, 2)); // the too-old tail is cut on write
  const c = await openClient();
  assert.equal(await c.lLen(`${prefix}:{c}:history`), 1);
  await c.close();
});

test('Redis heartbeats expire and leave', async () => {
  const fleet = new RedisFleet(redis, prefix, { limit: 3, maxAgeMs: 60_000 }, 'redis://x');
  await fleet.beat(beat('short', Date.now()), 200);
  await fleet.beat(beat('long', Date.now()), 10_000);
  assert.deepEqual((await fleet.instances()).map((h) => h.instance), ['long', 'short']);
  await sleep(300);
  assert.deepEqual((await fleet.instances()).map((h) => h.instance), ['long']);
  await fleet.leave('long');
  assert.deepEqual(await fleet.instances(), []);
});

test('embedded history: retention and heartbeats in the state database of the state directory', async () => {
  const now = Date.now();
  const store = SqliteStore.open(stateDatabaseFile(dir, '/etc/x/watchers.conf'));
  await access(path.join(dir, 'watchers.conf.sqlite'));
  const fleet = new EmbeddedFleet(dir, store.db, { limit: 2, maxAgeMs: 60_000 });
  await fleet.append(rec('old', now - 120_000, 0)); // already too old
  for (let i = 1; i <= 110; i++) await fleet.append(rec('j', now - 200 + i, i));
  assert.deepEqual((await fleet.history('j', 10)).map((r) => r.fence), [110, 109]);
  assert.deepEqual(await fleet.historyJobs(), ['j']);
  const { n } = store.db.prepare('SELECT COUNT(*) AS n FROM history').get() as { n: number };
  assert.equal(n, 2, 'trimmed to the limits on every write');
  await fleet.beat(beat('short', now), 200);
  await fleet.beat(beat('solo', now), 10_000);
  assert.deepEqual((await fleet.instances()).map((h) => h.instance), ['short', 'solo']);
  await sleep(300);
  assert.deepEqual((await fleet.instances()).map((h) => h.instance), ['solo']);
  await fleet.leave('solo');
  assert.deepEqual(await fleet.instances(), []);
  await store.close();
});

test('webhooks retry with backoff on 5xx, not on 4xx, and carry no secret', async () => {
  const hits: Array<{ path: string; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      hits.push({ path: req.url ?? '', body });
      const flaky = req.url === '/flaky' && hits.filter((h) => h.path === '/flaky').length < 3;
      res.writeHead(req.url === '/gone' ? 404 : flaky ? 503 : 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const job = (name: string, notify: string, notifyOn: 'failure' | 'always' = 'failure'): JobSpec => ({ name, notify, notifyOn }) as JobSpec;
  const sink = new NotifySink({ jobs: [job('flaky', `${base}/flaky`), job('gone', `${base}/gone`), job('fine', `${base}/ok`), job('loud', `${base}/ok`, 'always')], log, backoffMs: 20 });
  const finished = (name: string, outcome: 'ok' | 'failed') =>
    sink.emit({ event: 'run-finished', job: name, mode: 'cron', occurrence: 0, nominal: 0, instance: 'i', fence: 1, attempts: 1, outcome, startedAt: 0, endedAt: 1, durationMs: 1, latenessMs: 0, manual: false, error: outcome === 'failed' ? 'bad https://u:topsecret@api' : undefined });
  finished('flaky', 'failed');
  finished('gone', 'failed');
  finished('fine', 'ok'); // notify-on=failure: nothing
  finished('loud', 'ok'); // notify-on=always
  await sink.flush(5_000);
  server.close();
  assert.equal(hits.filter((h) => h.path === '/flaky').length, 3, 'two retries, then delivered');
  assert.equal(hits.filter((h) => h.path === '/gone').length, 1, 'no retry on 404');
  assert.equal(hits.filter((h) => h.path === '/ok').length, 1);
  assert.equal((JSON.parse(hits.find((h) => h.path === '/ok')!.body) as { type: string }).type, 'run-ok');
  assert.ok(hits.every((h) => !h.body.includes('topsecret')));
  assert.ok(warnings.some((w) => /gone not delivered: HTTP 404/.test(w)), warnings.join('\n'));
});

test('health: a stalled loop, a shutdown, no jobs or nothing scheduled is unhealthy', async () => {
  const store = SqliteStore.open(':memory:');
  const now = Date.now();
  const sched = (over: Partial<{ lastTick: number; stopping: boolean; next: number | null }>) => ({
    skewMs: 0,
    runningCount: 0,
    stopping: over.stopping ?? false,
    lastTick: over.lastTick ?? now,
    states: () => [{ next: over.next === undefined ? now + 1000 : over.next, runningHere: 0 }],
  });
  assert.equal((await checkHealth({ scheduler: sched({}), store })).ok, true);
  assert.match((await checkHealth({ scheduler: sched({ lastTick: now - 60_000 }), store })).reasons[0]!, /loop stalled/);
  assert.match((await checkHealth({ scheduler: sched({ stopping: true }), store })).reasons[0]!, /shutting down/);
  assert.match((await checkHealth({ scheduler: sched({ next: null }), store })).reasons[0]!, /no job has an occurrence scheduled/);
  const empty = await checkHealth({ scheduler: { ...sched({}), states: () => [] }, store });
  assert.equal(empty.ok, false, 'zero jobs scheduled is not healthy');
  assert.match(empty.reasons[0]!, /no jobs/);
  await store.close();
});
