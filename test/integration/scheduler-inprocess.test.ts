/**
 * In-process Scheduler instances sharing one real Redis (the shared server, a key prefix per
 * test), each with its own connection and an injected clock offset by seconds: a fleet in one
 * process. A `probe` watcher records every run (job, occurrence, instance, fence, attempt).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectRedis } from '../../src/coordination/redis/client.js';
import { jobKeys } from '../../src/coordination/redis/keys.js';
import { RedisStore } from '../../src/coordination/redis/redis-store.js';
import { hasErrors, formatDiagnostic, type JobSpec } from '../../src/jobsfile/job.js';
import { parseJobsFile } from '../../src/jobsfile/parse.js';
import type { Logger } from '../../src/base/logger.js';
import { cronSchedule, previousOccurrence } from '../../src/schedule/schedule.js';
import { offsetClock } from '../../src/scheduler/clock.js';
import type { RunEvent } from '../../src/scheduler/events.js';
import { RunAborted } from '../../src/scheduler/run-wrappers.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { defineWatcher } from '../../src/watchers/define-watcher.js';
import { WatcherRegistry } from '../../src/watchers/registry.js';
import { deletePrefix, openClient, SHARED_REDIS_URL, sleep, uniquePrefix, type TestRedisClient } from '../helpers/redis.js';

interface RunRecord {
  job: string;
  occurrence: number;
  instance: string;
  fence: number;
  attempt: number;
  /** Real time (Date.now), whatever the scheduler's clock says. */
  start: number;
  end?: number;
  /** Why the run's signal was aborted, if it was. */
  aborted?: string;
  signal: AbortSignal;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Records each run into `runs`; sleeps `sleep-ms` (honouring the signal); fails its first `fail-attempts` attempts. */
function probe(runs: RunRecord[]) {
  return defineWatcher({
    name: 'probe',
    options: {
      'sleep-ms': { type: 'int', min: 0, default: 0, description: 'how long a run takes' },
      'fail-attempts': { type: 'int', min: 0, default: 0, description: 'attempts that fail before one succeeds' },
    },
    async run(ctx) {
      const rec: RunRecord = { job: ctx.job, occurrence: ctx.occurrence.getTime(), instance: ctx.instance, fence: ctx.fence, attempt: ctx.attempt, start: Date.now(), signal: ctx.signal };
      runs.push(rec);
      ctx.signal.addEventListener('abort', () => (rec.aborted = ctx.signal.reason instanceof RunAborted ? ctx.signal.reason.kind : String(ctx.signal.reason)), { once: true });
      try {
        if (ctx.options['sleep-ms'] > 0) await abortableSleep(ctx.options['sleep-ms'], ctx.signal);
        if (ctx.attempt <= ctx.options['fail-attempts']) throw new Error(`attempt ${ctx.attempt} fails on purpose`);
        return { summary: 'probed' };
      } finally {
        rec.end = Date.now();
      }
    },
  });
}

const silentLog: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => silentLog };

function parseJobs(text: string, registry: WatcherRegistry): JobSpec[] {
  const jf = parseJobsFile({ text, file: 'inprocess.conf', env: {}, watchers: registry, now: Date.now() });
  assert.ok(!hasErrors(jf.diagnostics), jf.diagnostics.map(formatDiagnostic).join('\n'));
  return jf.jobs;
}

interface Fleet {
  runs: RunRecord[];
  events: RunEvent[];
  schedulers: Scheduler[];
  stores: RedisStore[];
  prefix: string;
  stop(): Promise<void>;
  finished(job: string): Array<RunEvent & { event: 'run-finished' }>;
  waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void>;
}

const fleets: Fleet[] = [];
let admin: TestRedisClient;

async function openStore(prefix: string): Promise<RedisStore> {
  const connection = connectRedis(SHARED_REDIS_URL, { onError: () => {} });
  assert.ok(await connection.ready(5_000), `Redis at ${SHARED_REDIS_URL} not reachable`);
  return new RedisStore(connection, prefix);
}

/** Starts one scheduler per clock offset (ms), sharing one key prefix. */
async function startFleet(jobsText: string, offsets: number[], opts: { maxClockSkewMs?: number; prefix?: string; runs?: RunRecord[]; start?: boolean } = {}): Promise<Fleet> {
  const runs = opts.runs ?? [];
  const events: RunEvent[] = [];
  const prefix = opts.prefix ?? uniquePrefix();
  const registry = new WatcherRegistry([probe(runs)]);
  const jobs = parseJobs(jobsText, registry);
  const stores = await Promise.all(offsets.map(() => openStore(prefix)));
  const schedulers = offsets.map(
    (offset, i) =>
      new Scheduler({
        jobs,
        registry,
        store: stores[i]!,
        clock: offsetClock(offset),
        log: silentLog,
        events: { emit: (e) => events.push(e) },
        instance: `s${i}(${offset >= 0 ? '+' : ''}${offset}ms)`,
        maxClockSkewMs: opts.maxClockSkewMs ?? 5_000,
      }),
  );
  let stopped = false;
  const fleet: Fleet = {
    runs,
    events,
    schedulers,
    stores,
    prefix,
    finished: (job) => events.filter((e): e is RunEvent & { event: 'run-finished' } => e.event === 'run-finished' && e.job === job),
    async waitFor(pred, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}; events:\n${events.map((e) => JSON.stringify(e)).join('\n')}`);
        await sleep(20);
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const s of schedulers) s.stopClaiming();
      const drained = await Promise.all(schedulers.map((s) => s.drain(3_000)));
      if (drained.includes(false)) {
        for (const s of schedulers) s.abort();
        await Promise.all(schedulers.map((s) => s.drain(3_000)));
      }
      await Promise.all(stores.map((s) => s.close()));
    },
  };
  fleets.push(fleet);
  if (opts.start !== false) await Promise.all(schedulers.map((s) => s.start()));
  return fleet;
}

const key = (r: { job: string; occurrence: number }): string => `${r.job}@${r.occurrence}`;

function assertNoDuplicates(runs: RunRecord[]): void {
  const seen = new Map<string, RunRecord>();
  for (const r of runs.filter((x) => x.attempt === 1)) {
    const prev = seen.get(key(r));
    assert.ok(!prev, `occurrence ${key(r)} ran twice: on ${prev?.instance} (fence ${prev?.fence}) and ${r.instance} (fence ${r.fence})`);
    seen.set(key(r), r);
  }
}

before(async () => {
  admin = await openClient(SHARED_REDIS_URL);
});

after(async () => {
  for (const f of fleets) {
    await f.stop();
    await deletePrefix(admin, f.prefix);
  }
  await admin.close();
});

describe('a fleet of in-process schedulers on one Redis', () => {
  test('clocks -2 s, 0, +2 s: every-second cron and rate jobs run each occurrence exactly once, none lost; interval runs never overlap', async () => {
    const fleet = await startFleet(
      [
        '* * * * * *   cron      probe  name=tick',
        '@every 1s     rate      probe  name=rate sleep-ms=300',
        '@every 1s     interval  probe  name=iv sleep-ms=200',
      ].join('\n'),
      [-2_000, 0, 2_000],
    );
    await sleep(4_500);
    await fleet.stop();
    const { runs, events } = fleet;

    assertNoDuplicates(runs.filter((r) => r.job !== 'iv'));
    for (const job of ['tick', 'rate']) {
      const ids = runs.filter((r) => r.job === job).map((r) => r.occurrence).sort((a, b) => a - b);
      assert.ok(ids.length >= 5, `${job}: only ${ids.length} runs in 4.5 s`);
      for (const id of ids) assert.equal(id % 1_000, 0, `${job}: occurrence ${id} is not a whole second`);
      // Steady state: from the first to the last occurrence that ran, no second is missing.
      for (let i = 1; i < ids.length; i++) assert.equal(ids[i]! - ids[i - 1]!, 1_000, `${job}: lost occurrence(s) between ${new Date(ids[i - 1]!).toISOString()} and ${new Date(ids[i]!).toISOString()}`);
      // Every run was claimed with its own fencing token.
      const fences = runs.filter((r) => r.job === job).map((r) => r.fence);
      assert.equal(new Set(fences).size, fences.length, `${job}: fences reused: ${fences.join(',')}`);
      for (const e of fleet.finished(job)) assert.equal(e.outcome, 'ok', JSON.stringify(e));
    }
    // The other instances did try, and were told the occurrence was taken (not late, not skipped).
    const taken = events.filter((e) => e.event === 'occurrence-taken' && e.job !== 'iv');
    assert.ok(new Set(taken.map((e) => e.instance)).size >= 2, 'contention: at least two instances lost claims');
    const skipped = events.filter((e) => e.event === 'occurrence-skipped');
    assert.deepEqual(skipped, [], 'no occurrence was skipped');
    for (const r of runs.filter((x) => x.job !== 'iv')) {
      const attempts = events.filter((e) => (e.event === 'occurrence-taken' || e.event === 'run-started') && e.job === r.job && e.occurrence === r.occurrence);
      assert.equal(attempts.filter((e) => e.event === 'run-started').length, 1);
    }

    // Interval: increasing generations, each once, each run starting at least 1 s after the previous one ended, fleet-wide.
    const iv = runs.filter((r) => r.job === 'iv').sort((a, b) => a.start - b.start);
    assert.ok(iv.length >= 2, `interval ran ${iv.length} times`);
    // (An interval run's ctx.occurrence is its start on the winner's clock, so order by fence.)
    assert.deepEqual(iv.map((r) => r.fence), iv.map((r) => r.fence).sort((a, b) => a - b), 'fences grow with the runs');
    const ivStarted = events.filter((e) => e.event === 'run-started' && e.job === 'iv').map((e) => e.occurrence);
    assert.ok(ivStarted.every((g, i) => i === 0 || g > ivStarted[i - 1]!), `generations increase, each once: ${ivStarted.join(',')}`);
    for (let i = 1; i < iv.length; i++) {
      const gap = iv[i]!.start - iv[i - 1]!.end!;
      assert.ok(gap >= 1_000 - 25 && gap < 2_000, `interval run ${i} started ${gap} ms after the previous one ended (on ${iv[i - 1]!.instance} -> ${iv[i]!.instance})`);
    }
  });

  test('three instances with the same clock race every claim: still exactly once', async () => {
    const fleet = await startFleet(['* * * * * *   cron  probe  name=race', '@every 500ms  rate  probe  name=race-rate'].join('\n'), [0, 0, 1]);
    await sleep(3_000);
    await fleet.stop();
    assertNoDuplicates(fleet.runs);
    const winners = new Set(fleet.runs.map((r) => r.instance));
    assert.ok(fleet.runs.filter((r) => r.job === 'race-rate').length >= 4);
    const attempts = fleet.events.filter((e) => e.event === 'occurrence-taken').length + fleet.events.filter((e) => e.event === 'run-started').length;
    assert.ok(attempts >= fleet.runs.length * 2, `each occurrence was contended (${attempts} attempts for ${fleet.runs.length} runs; winners ${[...winners].join(', ')})`);
  });

  test('skew above MAX_CLOCK_SKEW: occurrences are skipped with reason clock-skew, nothing is claimed or run', async () => {
    const fleet = await startFleet(['* * * * * *   cron      probe  name=skewed', '@every 1s     interval  probe  name=skewed-iv'].join('\n'), [8_000], { maxClockSkewMs: 5_000 });
    assert.ok(Math.abs(fleet.schedulers[0]!.skewMs! + 8_000) < 500, `measured skew ${fleet.schedulers[0]!.skewMs}`);
    await sleep(1_700);
    await fleet.stop();
    assert.deepEqual(fleet.runs, []);
    const skips = fleet.events.filter((e) => e.event === 'occurrence-skipped');
    assert.ok(skips.length >= 2, `skips: ${JSON.stringify(skips)}`);
    for (const s of skips) assert.equal(s.event === 'occurrence-skipped' && s.reason, 'clock-skew');
    assert.deepEqual(new Set(skips.map((s) => s.job)), new Set(['skewed', 'skewed-iv']));
    assert.deepEqual(fleet.events.filter((e) => e.event !== 'occurrence-skipped'), []);
    for (const job of ['skewed', 'skewed-iv']) {
      assert.equal(await admin.exists([jobKeys(fleet.prefix, job).claims, jobKeys(fleet.prefix, job).state]), 0, `${job}: nothing written to Redis`);
    }
  });

  test('overlap=skip with a slow watcher: occurrences during a run are skipped (reason overlap) and consumed', async () => {
    const fleet = await startFleet('* * * * * *   cron  probe  name=slow sleep-ms=2300 overlap=skip', [0, 300]);
    await fleet.waitFor(() => fleet.finished('slow').length >= 2, 7_000, 'two runs of slow');
    await fleet.stop();
    const runs = fleet.runs.sort((a, b) => a.start - b.start);
    assertNoDuplicates(runs);
    for (let i = 1; i < runs.length; i++) assert.ok(runs[i]!.start >= runs[i - 1]!.end!, 'overlap=skip runs never overlap');
    const skips = fleet.events.filter((e): e is RunEvent & { event: 'occurrence-skipped' } => e.event === 'occurrence-skipped');
    assert.ok(skips.length >= 2, `overlap skips: ${skips.length}`);
    for (const s of skips) {
      assert.equal(s.reason, 'overlap');
      assert.ok(s.holder && /^s[01]/.test(s.holder), `the skip names the holder: ${s.holder}`);
      assert.ok(!runs.some((r) => r.occurrence === s.occurrence), `skipped occurrence ${s.occurrence} ran anyway`);
    }
  });
});

describe('run wrappers under the scheduler', () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await startFleet(
      [
        '* * * * * *  cron  probe  name=flaky fail-attempts=1 retries=2 retry-delay=150ms overlap=skip',
        '* * * * * *  cron  probe  name=hang sleep-ms=60000 timeout=300ms overlap=skip',
        '* * * * * *  cron  probe  name=long sleep-ms=60000 lock-ttl=1s overlap=skip',
      ].join('\n'),
      [0],
    );
  });
  after(() => fleet.stop());

  test('timeout= aborts the run: outcome timeout, the watcher saw its signal aborted', async () => {
    await fleet.waitFor(() => fleet.finished('hang').length >= 1, 3_000, 'hang to finish');
    const [e] = fleet.finished('hang');
    assert.equal(e!.outcome, 'timeout');
    assert.ok(e!.durationMs >= 290 && e!.durationMs < 1_000, `duration ${e!.durationMs}`);
    assert.equal(e!.attempts, 1, 'a timeout is not retried');
    const rec = fleet.runs.find((r) => r.job === 'hang' && r.occurrence === e!.occurrence)!;
    assert.equal(rec.aborted, 'timeout');
    assert.equal(rec.signal.aborted, true);
  });

  test('retries: a failed attempt is retried within the same occurrence, with the same fence, and succeeds', async () => {
    await fleet.waitFor(() => fleet.finished('flaky').length >= 1, 3_000, 'flaky to finish');
    const [e] = fleet.finished('flaky');
    assert.equal(e!.outcome, 'ok', JSON.stringify(e));
    assert.equal(e!.attempts, 2);
    const recs = fleet.runs.filter((r) => r.job === 'flaky' && r.occurrence === e!.occurrence);
    assert.deepEqual(recs.map((r) => r.attempt), [1, 2]);
    assert.equal(recs[0]!.fence, recs[1]!.fence, 'same fencing token across attempts');
    assert.equal(recs[0]!.fence, e!.fence);
    assert.ok(recs[1]!.start - recs[0]!.end! >= 140, 'retry-delay honoured');
    const retries = fleet.events.filter((x) => x.event === 'run-retry' && x.job === 'flaky' && x.occurrence === e!.occurrence);
    assert.equal(retries.length, 1);
    const started = fleet.events.filter((x) => x.event === 'run-started' && x.job === 'flaky' && x.occurrence === e!.occurrence);
    assert.deepEqual(started.map((x) => x.event === 'run-started' && x.attempt), [1, 2]);
  });

  test('lock lost: the running key deleted under a long run -> outcome lock-lost, the watcher signal aborted', async () => {
    await fleet.waitFor(() => fleet.runs.some((r) => r.job === 'long'), 3_000, 'long to start');
    const rec = fleet.runs.find((r) => r.job === 'long')!;
    assert.equal(rec.signal.aborted, false);
    const k = jobKeys(fleet.prefix, 'long');
    // Renewals keep it alive past its 1 s TTL...
    await sleep(1_200);
    assert.equal(rec.signal.aborted, false, 'renewed, not lost');
    assert.equal(await admin.zCard(k.running), 1);
    // ...until someone takes it away (a Redis failover without replication, a flush, a bug).
    await admin.del(k.running);
    const t0 = Date.now();
    await fleet.waitFor(() => fleet.finished('long').some((e) => e.occurrence === rec.occurrence), 2_000, 'long to end');
    assert.ok(Date.now() - t0 < 1_000, 'noticed within a renewal period (ttl/3)');
    const e = fleet.finished('long').find((x) => x.occurrence === rec.occurrence)!;
    assert.equal(e.outcome, 'lock-lost');
    assert.equal(rec.signal.aborted, true);
    assert.equal(rec.aborted, 'lock-lost');
  });
});

describe('misfire after whole-fleet downtime', () => {
  const YEARLY = '0 0 1 1 *';
  const jobsText = [`${YEARLY}  cron  probe  name=catch-once misfire=once`, `${YEARLY}  cron  probe  name=catch-skip`, `${YEARLY}  cron  probe  name=fresh misfire=once`].join('\n');

  test('misfire=once runs the latest missed occurrence exactly once across two schedulers started together; misfire=skip does not', async () => {
    const prefix = uniquePrefix();
    const runs: RunRecord[] = [];
    const registry = new WatcherRegistry([probe(runs)]);
    const [job] = parseJobs(jobsText, registry);
    assert.equal(job!.schedule.kind, 'cron');
    const latest = previousOccurrence(cronSchedule(job!.schedule as never, 'UTC'), Date.now())!;
    assert.ok(latest < Date.now());
    // The fleet ran the job before: seed a claim one year (several occurrences) earlier, then it was down.
    const seeder = await openStore(prefix);
    const seed = previousOccurrence(cronSchedule(job!.schedule as never, 'UTC'), latest - 1)!;
    for (const name of ['catch-once', 'catch-skip']) {
      const c = await seeder.claim({ job: name, occurrence: seed, holder: { instance: 'old', occurrence: seed, startedAt: seed }, ttlMs: 1_000, skipIfRunning: false });
      assert.equal(c.kind, 'won');
      if (c.kind === 'won') await seeder.release(name, c.token, false);
    }
    assert.equal(await seeder.newestClaim('catch-once'), seed);

    const fleet = await startFleet(jobsText, [0, 0], { prefix, runs });
    await fleet.waitFor(() => fleet.finished('catch-once').length >= 1, 3_000, 'the catch-up run');
    await sleep(500);
    await fleet.stop();
    assert.deepEqual(
      runs.map((r) => ({ job: r.job, occurrence: r.occurrence })),
      [{ job: 'catch-once', occurrence: latest }],
      'one catch-up run of the latest missed occurrence; none for misfire=skip or a job that never ran',
    );
    assert.equal(fleet.events.filter((e) => e.event === 'occurrence-taken' && e.job === 'catch-once').length, 1, 'the other scheduler tried and lost');
    assert.equal(await seeder.newestClaim('catch-once'), latest);

    // An instance that starts later finds the occurrence claimed: nothing more runs.
    const later = await startFleet(jobsText, [0], { prefix, runs });
    await sleep(500);
    await later.stop();
    assert.equal(runs.length, 1);
    await seeder.close();
  });
});
