/**
 * iamwatch's own deadline on every Redis command, against a private, non-persistent redis-server
 * that is paused (CLIENT PAUSE ... ALL, sent from a separate client), stopped and restarted.
 * node-redis stops timing a command once it is written, so without iamwatch's deadline a paused
 * server would leave claims and renewals hanging. Checked here: the wrapper rejects on time and
 * drops the late reply; a claim with no answer in time is released by token once the server
 * resumes; the persistence warning and restart notice; an in-process scheduler whose event loop
 * is blocked over a claim time (overloaded); and a real `iamwatch run` under a pause
 * (skips as redis-slow, never a late start, lock-lost before the TTL ends, health degraded) and
 * a stop (skips as redis-unavailable).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connectRedis } from '../../src/coordination/redis/client.js';
import { withDeadlines } from '../../src/coordination/redis/deadline.js';
import { jobKeys } from '../../src/coordination/redis/keys.js';
import { RedisStore } from '../../src/coordination/redis/redis-store.js';
import { storeFailureOf } from '../../src/coordination/store-failure.js';
import { formatDiagnostic, hasErrors } from '../../src/jobsfile/job.js';
import { parseJobsFile } from '../../src/jobsfile/parse.js';
import type { Logger } from '../../src/base/logger.js';
import { systemClock } from '../../src/scheduler/clock.js';
import type { RunEvent } from '../../src/scheduler/events.js';
import { MAX_START_DELAY_MS, Scheduler } from '../../src/scheduler/scheduler.js';
import { ServerWatch } from '../../src/scheduler/server-watch.js';
import { defineWatcher } from '../../src/watchers/define-watcher.js';
import { WatcherRegistry } from '../../src/watchers/registry.js';
import { startInstance, type Instance, type LogLine, readRuns, recordCommand } from '../helpers/instance.js';
import { openClient, sleep, startRedisServer, uniquePrefix, type PrivateRedis, type TestRedisClient } from '../helpers/redis.js';

let redis: PrivateRedis;
let admin: TestRedisClient;
let dir: string;
const started: Instance[] = [];

before(async () => {
  redis = await startRedisServer();
  admin = await openClient(redis.url);
  dir = await mkdtemp(path.join(tmpdir(), 'iwtest-deadlines-'));
});

after(async () => {
  for (const i of started) if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
  if (admin.isOpen) admin.destroy();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

/**
 * Pauses every client of the server for `ms`, from a connection of its own (dropped at once: a
 * QUIT would wait for the pause). `before` commands run in the same MULTI, just before the pause.
 */
async function pause(ms: number, before: string[][] = []): Promise<unknown[]> {
  const c = await openClient(redis.url);
  try {
    const multi = c.multi();
    for (const cmd of before) multi.addCommand(cmd);
    multi.addCommand(['CLIENT', 'PAUSE', String(ms), 'ALL']);
    return (await multi.exec()) as unknown[];
  } finally {
    c.destroy();
  }
}

async function until(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

function connection(defaultMs = 2_000, onLateReply?: (command: string) => void) {
  return withDeadlines(connectRedis(redis.url, { onError: () => {} }), defaultMs, { onLateReply });
}

type Captured = { level: string; fields: Record<string, unknown>; msg: string };
function captureLog(lines: Captured[]): Logger {
  const at = (level: string) => (fields: Record<string, unknown> | string, msg?: string) =>
    void lines.push(typeof fields === 'string' ? { level, fields: {}, msg: fields } : { level, fields, msg: msg ?? '' });
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return log;
}

describe('the deadline wrapper', () => {
  test('rejects on time against a paused server, as slow; the late reply is ignored', async () => {
    const late: string[] = [];
    const conn = connection(300, (command) => late.push(command));
    assert.ok(await conn.ready(5_000), 'connected');
    const key = `${uniquePrefix()}:n`;
    await pause(2_000);
    const t0 = Date.now();
    const err = await conn.send(['INCRBY', key, '41'], key).then(() => null, (e: unknown) => e);
    const elapsed = Date.now() - t0;
    const failure = storeFailureOf(err);
    assert.equal(failure?.store, 'slow', `a typed slow failure: ${String(err)}`);
    assert.equal(failure.command, 'INCRBY');
    assert.equal(failure.timeoutMs, 300);
    assert.ok(elapsed >= 290 && elapsed < 800, `rejected after ${elapsed} ms, deadline 300 ms`);
    // A caller may shorten the deadline, never lengthen it.
    const t1 = Date.now();
    assert.equal(storeFailureOf(await conn.send(['PING'], key, 100).catch((e: unknown) => e))?.timeoutMs, 100);
    assert.ok(Date.now() - t1 < 400, `a 100 ms deadline took ${Date.now() - t1} ms`);
    assert.equal(storeFailureOf(await conn.send(['PING'], key, 60_000).catch((e: unknown) => e))?.timeoutMs, 300);
    assert.equal(late.length, 0, 'nothing answered yet');

    // When the pause ends the server runs the queued commands; their replies go nowhere, and the
    // next command gets its own reply, not a stale one.
    await until(() => late.length === 3, 5_000, 'the three late replies');
    assert.deepEqual(late, ['INCRBY', 'PING', 'PING']);
    assert.equal(await conn.send(['GET', key], key), '41');
    await conn.close();
  });

  test('fails at once, as down, while the server is stopped; works again once it is back', async () => {
    const conn = connection();
    assert.ok(await conn.ready(5_000));
    await redis.stop();
    try {
      await until(() => !conn.isReady, 5_000, 'the client to notice the server is gone');
      const t0 = Date.now();
      const err = await conn.send(['PING'], 'k').then(() => null, (e: unknown) => e);
      assert.ok(Date.now() - t0 < 100, `took ${Date.now() - t0} ms`);
      const failure = storeFailureOf(err);
      assert.equal(failure?.store, 'down', String(err));
      assert.equal(failure.maybeExecuted, false);
      assert.match((err as Error).message, /Redis is not reachable/);
    } finally {
      await redis.restart();
    }
    assert.ok(await conn.ready(10_000), 'reconnected');
    assert.equal(await conn.send(['PING'], 'k'), 'PONG');
    await conn.close();
    if (admin.isOpen) admin.destroy();
    admin = await openClient(redis.url);
  });
});

/** Waits (bounded) until the store's connection is up. */
async function waitConnected(store: { connected: boolean }, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!store.connected && Date.now() < deadline) await sleep(20);
  return store.connected;
}

describe('the Redis store under a pause', () => {
  test('a claim with no answer in time fails as slow; once the server resumes, its lock is released by token', async () => {
    const prefix = uniquePrefix();
    const store = new RedisStore(connection(), prefix);
    assert.ok(await waitConnected(store));
    const k = jobKeys(prefix, 'job');
    const occurrence = Date.now();
    const holder = { instance: 'me', occurrence, startedAt: occurrence };
    // A first claim loads the script, so the late one is an EVALSHA the server can run.
    const first = await store.claim({ job: 'job', occurrence: occurrence - 1_000, holder, ttlMs: 60_000, skipIfRunning: true });
    assert.equal(first.kind, 'won');
    await store.release('job', first.token, false);
    await pause(1_500);
    const t0 = Date.now();
    const err = await store.claim({ job: 'job', occurrence, holder, ttlMs: 60_000, skipIfRunning: true, timeoutMs: 200 }).then(() => null, (e: unknown) => e);
    assert.equal(storeFailureOf(err)?.store, 'slow', String(err));
    assert.ok(Date.now() - t0 < 600, `the claim's 200 ms deadline took ${Date.now() - t0} ms`);
    // A renewal's deadline is a sixth of the lock's lifetime (3 s -> 500 ms), well under ttl/3.
    const t1 = Date.now();
    const renewErr = await store.renew('job', 'some-token', 3_000).then(() => null, (e: unknown) => e);
    assert.equal(storeFailureOf(renewErr)?.timeoutMs, 500);
    assert.ok(Date.now() - t1 < 900, `the renewal took ${Date.now() - t1} ms`);

    // The server ran the late claim when the pause ended (the occurrence is claimed for good),
    // and the release sent after it: no running lock is left to block an overlap=skip job.
    await until(async () => (await admin.zScore(k.claims, String(occurrence))) !== null, 5_000, 'the late claim to run');
    await until(async () => (await admin.zCard(k.running)) === 0, 3_000, 'the late claim\'s lock to be released');
    assert.equal(await admin.hLen(k.holders), 0);
    assert.equal((await store.claim({ job: 'job', occurrence, holder, ttlMs: 60_000, skipIfRunning: true })).kind, 'taken', 'never claimable again');
    const next = await store.claim({ job: 'job', occurrence: occurrence + 1_000, holder, ttlMs: 60_000, skipIfRunning: true });
    assert.equal(next.kind, 'won', 'an overlap=skip job is not blocked by the lost claim');
    await store.close();
  });
});

describe('what the server persists, and its restarts', () => {
  test('a non-persistent server is warned about once; a restart is noticed and warned about', async () => {
    const lines: Captured[] = [];
    const store = new RedisStore(connection(), uniquePrefix());
    assert.ok(await waitConnected(store));
    const watch = new ServerWatch(store, captureLog(lines));
    await watch.start();
    const warned = lines.filter((l) => l.fields.event === 'redis-persistence');
    assert.equal(warned.length, 1, JSON.stringify(lines));
    assert.equal(warned[0]!.level, 'warn');
    assert.equal(warned[0]!.fields.persistence, 'none');
    assert.match(warned[0]!.msg, /Redis has no persistence .*every claim, running lock and run record is lost/);

    await watch.check();
    assert.equal(lines.filter((l) => l.level === 'warn').length, 1, 'nothing new: same server');
    await redis.restart();
    assert.ok(await waitConnected(store, 10_000), 'reconnected');
    await watch.check();
    const restarted = lines.filter((l) => l.fields.event === 'redis-restarted');
    assert.equal(restarted.length, 1, JSON.stringify(lines));
    assert.equal(restarted[0]!.level, 'warn');
    assert.match(restarted[0]!.msg, /restarted or failed over .*claims, running locks and run history from before it are gone/);
    assert.notEqual(restarted[0]!.fields.runId, restarted[0]!.fields.previousRunId);
    assert.equal(lines.filter((l) => l.fields.event === 'redis-persistence').length, 1, 'the persistence warning is given once');
    await store.close();
    if (admin.isOpen) admin.destroy();
    admin = await openClient(redis.url);
  });

  test('without CONFIG it falls back to INFO persistence; without either it says it could not check', async () => {
    await admin.sendCommand(['ACL', 'SETUSER', 'noconfig', 'on', '>pw', '~*', '+@all', '-config']);
    await admin.sendCommand(['ACL', 'SETUSER', 'noinfo', 'on', '>pw', '~*', '+@all', '-config', '-info']);
    for (const [user, kind, detail] of [['noconfig', 'none', /INFO persistence: no AOF/], ['noinfo', 'unknown', /neither CONFIG GET nor INFO persistence is allowed/]] as const) {
      const conn = withDeadlines(connectRedis(redis.url.replace('redis://', `redis://${user}:pw@`), { onError: () => {} }), 2_000);
      const store = new RedisStore(conn, uniquePrefix());
      assert.ok(await conn.ready(5_000), user);
      const p = await store.persistence();
      assert.equal(p.kind, kind, `${user}: ${JSON.stringify(p)}`);
      assert.match(p.detail, detail);
      const lines: Captured[] = [];
      await new ServerWatch(store, captureLog(lines)).start();
      if (kind === 'unknown') {
        assert.ok(lines.some((l) => l.level === 'debug' && /could not check whether Redis persists/.test(l.msg)), JSON.stringify(lines));
        assert.ok(!lines.some((l) => l.level === 'warn'), 'no warning when it could not be checked');
      }
      await store.close();
    }
  });
});

describe('an overloaded instance', () => {
  test('an event loop blocked over a claim time skips the occurrence as overloaded, with how late it woke, and starts nothing late', async () => {
    const registry = new WatcherRegistry([defineWatcher({ name: 'noop', async run() {} })]);
    const jf = parseJobsFile({ text: '* * * * * *  cron  noop  name=tick\n', file: 'overload.conf', env: {}, watchers: registry, now: Date.now() });
    assert.ok(!hasErrors(jf.diagnostics), jf.diagnostics.map(formatDiagnostic).join('\n'));
    const store = new RedisStore(connection(), uniquePrefix());
    assert.ok(await waitConnected(store));
    const events: RunEvent[] = [];
    const silent = captureLog([]);
    const scheduler = new Scheduler({ jobs: jf.jobs, registry, store, clock: systemClock, log: silent, events: { emit: (e) => events.push(e) }, instance: 'busy', maxClockSkewMs: 5_000 });
    await scheduler.start();
    try {
      await until(() => events.some((e) => e.event === 'run-started'), 3_000, 'a first run');
      // Block the loop from 400 ms before a nominal time (its claim is due 250 ms before it) to 1.1 s after.
      const nominal = Math.ceil((Date.now() + 600) / 1000) * 1000;
      await sleep(nominal - 400 - Date.now());
      const until_ = nominal + 1_100;
      while (Date.now() < until_) {
        // busy: the event loop cannot wake
      }
      await until(() => events.some((e) => e.event === 'run-started' && e.nominal > nominal), 3_000, 'a run after the stall');
      const skip = events.find((e) => e.event === 'occurrence-skipped' && e.nominal === nominal);
      assert.ok(skip && skip.event === 'occurrence-skipped', `the stalled occurrence was skipped: ${JSON.stringify(events.filter((e) => e.nominal === nominal))}`);
      assert.equal(skip.reason, 'overloaded');
      assert.ok(skip.lateMs !== undefined && skip.lateMs >= 1_000, `lateMs ${skip.lateMs}`);
      assert.match(skip.detail ?? '', /woke for the claim \d+ ms late/);
      assert.ok(!events.some((e) => e.event === 'run-started' && e.nominal === nominal), 'not started late');
      const late = events.filter((e) => e.event === 'run-started' && e.latenessMs > MAX_START_DELAY_MS + 100);
      assert.deepEqual(late, [], 'nothing started late');
      const p = scheduler.pressure;
      assert.ok(p.overloaded && p.overloaded.lateMs >= 1_000 && Date.now() - p.overloaded.at < 5_000, JSON.stringify(p));
    } finally {
      scheduler.stopClaiming();
      await scheduler.drain(5_000);
      await store.close();
    }
  });
});

describe('iamwatch run against a paused, then a stopped Redis', () => {
  const prefix = uniquePrefix();
  const out = (): string => path.join(dir, 'runs.log');
  let inst: Instance;
  let metricsAt = '';
  let pausedAt = 0;
  let pauseEnds = 0;
  /** The running lock's deadline (Redis clock, ms) of the long run, read in the pause's own MULTI. */
  let lockDeadline = 0;
  let healthDuring: { status: number; body: { status: string; reasons: string[] } } | undefined;
  let healthAfter: { status: number; body: { status: string; reasons: string[] } } | undefined;
  let metricsAfter = '';

  const health = async () => {
    const r = await fetch(`http://${metricsAt}/healthz?format=json`, { signal: AbortSignal.timeout(5_000) });
    return { status: r.status, body: (await r.json()) as { status: string; reasons: string[] } };
  };

  before(async () => {
    if (!redis.running) await redis.restart();
    const config = path.join(dir, 'deadlines.conf');
    await writeFile(config, [
      `REDIS_URL=${redis.url}`,
      `IAMWATCH_PREFIX=${prefix}`,
      `OUT=${out()}`,
      'SHUTDOWN_TIMEOUT=10s',
      'METRICS_ADDR=127.0.0.1:0',
      `* * * * * *  cron  exec  name=a ${recordCommand(0)}`,
      `* * * * * *  cron  exec  name=b ${recordCommand(0)}`,
      `* * * * * *  cron  exec  name=c overlap=skip ${recordCommand(0)}`,
      `@every 1h  interval  exec  name=long lock-ttl=3s ${recordCommand(30)}`,
      '',
    ].join('\n'));
    inst = startInstance('dl-1', config);
    started.push(inst);
    metricsAt = String((await inst.waitFor((l) => l.event === 'metrics', 15_000, 'metrics address')).address);
    await inst.waitFor((l) => l.event === 'run-started' && l.job === 'long', 10_000, 'the long run to start');
    await sleep(2_200); // a few ticks, and the long run's first renewal

    const [locks] = await pause(4_000, [['ZRANGE', jobKeys(prefix, 'long').running, '0', '-1', 'WITHSCORES']]);
    pausedAt = Date.now();
    pauseEnds = pausedAt + 4_000;
    const flat = (locks as unknown[]).flat(2).map(Number);
    lockDeadline = Math.max(...flat.filter((n) => n > 1e12));
    await sleep(2_500);
    healthDuring = await health();
    await sleep(Math.max(0, pauseEnds - Date.now()) + 3_000);
    healthAfter = await health();
    metricsAfter = await (await fetch(`http://${metricsAt}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  });

  after(async () => {
    if (inst.child.exitCode === null) inst.child.kill('SIGTERM');
    const r = await inst.done;
    assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /internal error|Unhandled|TypeError/);
  });

  const skipped = (reason: string): LogLine[] => inst.lines.filter((l) => l.event === 'skipped' && l.reason === reason);

  test('the persistence warning is given at start', () => {
    const lines = inst.lines.filter((l) => l.event === 'redis-persistence');
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0]!.level, 'warn');
    assert.match(lines[0]!.msg, /no persistence/);
  });

  test('occurrences during the pause are skipped as redis-slow, none starts late, and jobs run again after it', async () => {
    const slow = skipped('redis-slow');
    for (const job of ['a', 'b', 'c']) {
      // Each occurrence whose claim went out during the pause and whose deadline ended before it.
      for (let t = Math.ceil((pausedAt + 400) / 1000) * 1000; t + MAX_START_DELAY_MS + 100 < pauseEnds; t += 1000) {
        const iso = new Date(t).toISOString();
        const skip = slow.find((l) => l.job === job && l.occurrence === iso);
        assert.ok(skip, `${job} ${iso}: no redis-slow skip\n${slow.map((l) => JSON.stringify(l)).join('\n')}`);
        assert.equal(skip.level, 'warn');
        assert.ok(!inst.lines.some((l) => l.event === 'run-started' && l.job === job && l.occurrence === iso), `${job} ${iso} ran`);
      }
    }
    assert.equal(skipped('redis-unavailable').filter((l) => Date.parse(l.time) < pauseEnds + 2_000).length, 0, 'a paused Redis is slow, not unavailable');
    const late = inst.lines.filter((l) => l.event === 'run-started' && Number(l.latenessMs) > 1_000);
    assert.deepEqual(late, [], 'no run started more than 1 s late');
    const runs = await readRuns(out());
    for (const job of ['a', 'b', 'c']) assert.ok(runs.some((r) => r.job === job && r.start > pauseEnds + 500), `${job} ran again after the pause`);
  });

  test('a renewal with no answer counts as failed: the long run is aborted as lock-lost before its lock lapses', () => {
    const lost = inst.lines.find((l) => l.event === 'lock-lost' && l.job === 'long');
    assert.ok(lost, 'lock-lost logged');
    assert.ok(lockDeadline > pausedAt - 3_000, `read the lock's deadline: ${lockDeadline}`);
    const lostAt = Date.parse(lost.time);
    assert.ok(lostAt > pausedAt && lostAt < lockDeadline, `lock-lost at ${lostAt}, the lock lapses at ${lockDeadline} (pause began ${pausedAt})`);
    const finished = inst.lines.find((l) => l.event === 'run-finished' && l.job === 'long');
    assert.equal(finished?.outcome, 'lock-lost', JSON.stringify(finished));
  });

  test('health is degraded (503) while Redis is slow and just after; metrics count redis-slow skips', () => {
    assert.equal(healthDuring?.status, 503, JSON.stringify(healthDuring));
    assert.equal(healthDuring.body.status, 'degraded');
    assert.ok(healthDuring.body.reasons.some((r) => /^redis: slow/.test(r)), JSON.stringify(healthDuring.body));
    assert.equal(healthAfter?.status, 503, JSON.stringify(healthAfter));
    assert.ok(healthAfter.body.reasons.some((r) => /^redis: slow: .*no answer within .* s ago/.test(r)), JSON.stringify(healthAfter.body));
    const count = [...metricsAfter.matchAll(/^iamwatch_skipped_occurrences_total\{[^}]*reason="redis-slow"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    assert.ok(count >= 6, `redis-slow skips counted: ${count}`);
    assert.match(metricsAfter, /^iamwatch_redis_slow\{[^}]*\} 1$/m);
    assert.match(metricsAfter, /^iamwatch_overloaded\{[^}]*\} 0$/m);
  });

  test('a stopped Redis gives redis-unavailable', async () => {
    const stoppedAt = Date.now();
    await redis.stop();
    await sleep(2_200);
    const restartAt = Date.now();
    await redis.restart();
    const during = skipped('redis-unavailable').filter((l) => Date.parse(l.time) > stoppedAt + 300 && Date.parse(l.time) < restartAt);
    assert.ok(during.length >= 3, `redis-unavailable skips while stopped: ${during.length}`);
    assert.ok(during.every((l) => l.level === 'warn'));
    const slowWhileStopped = skipped('redis-slow').filter((l) => Date.parse(l.time) > stoppedAt + 500 && Date.parse(l.time) < restartAt);
    assert.deepEqual(slowWhileStopped, [], 'a stopped Redis is unavailable, not slow');
    const back = async (): Promise<boolean> => (await readRuns(out())).some((r) => r.job === 'a' && r.start > restartAt + 50);
    await until(back, 10_000, 'a run after the restart');
  });
});
