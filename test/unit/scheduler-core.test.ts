/**
 * The scheduler core on a fake clock: every mode, overlap, misfire, retries, timeout, lock loss,
 * overload, clock skew and shutdown, table-driven, each case in milliseconds. The store is the
 * embedded one in memory, reading the same fake clock, so nothing here waits in real time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SqliteStore } from '../../src/coordination/embedded/sqlite-store.js';
import type { CoordinationStore } from '../../src/coordination/store.js';
import { diffJobs } from '../../src/jobsfile/config-change.js';
import { parseJobsFile } from '../../src/jobsfile/parse.js';
import type { Logger } from '../../src/base/logger.js';
import { EventBus, type RunEvent } from '../../src/scheduler/events.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { defineWatcher, type Watcher, type WatcherContext } from '../../src/watchers/define-watcher.js';
import { WatcherRegistry } from '../../src/watchers/registry.js';
import { FakeClock } from '../helpers/fake-clock.js';

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0) + 500; // mid-second: every-second occurrences fall at T0 + 500, + 1500, ...
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

/** Test watchers: `work` takes `ms` of fake time (0: returns at once), honouring its signal unless `deaf`. */
function watchers(clock: FakeClock): Watcher[] {
  const busy = (ms: number, ctx: WatcherContext, deaf = false): Promise<void> =>
    new Promise((resolve, reject) => {
      const cancel = clock.setTimer(ms, resolve);
      if (!deaf) ctx.signal.addEventListener('abort', () => (cancel(), reject(ctx.signal.reason)), { once: true });
    });
  return [
    defineWatcher({ name: 'work', options: { ms: { type: 'int', default: 0, description: '' } }, run: async (ctx) => (ctx.options.ms > 0 ? busy(ctx.options.ms, ctx) : undefined) }),
    defineWatcher({ name: 'fail', run: async () => Promise.reject(new Error('boom')) }),
    defineWatcher({ name: 'hang', run: () => new Promise(() => {}) }),
    defineWatcher({ name: 'deaf', options: { ms: { type: 'int', default: 60_000, description: '' } }, run: async (ctx) => busy(ctx.options.ms, ctx, true) }),
  ] as Watcher[];
}

interface World {
  clock: FakeClock;
  store: SqliteStore;
  scheduler: Scheduler;
  events: RunEvent[];
  /** Applies a new jobs file, as a reload does. */
  reload(lines: string[]): void;
  /** Events of one kind for one job, as [offset from T0 (ms) of the occurrence, outcome or reason]. */
  of(job: string, kind: RunEvent['event']): Array<[number, string]>;
}

async function world(lines: string[], o: { storeSkewMs?: number; prepare?: (store: CoordinationStore) => Promise<void>; maxClockSkewMs?: number } = {}): Promise<World> {
  const clock = new FakeClock(T0);
  const store = SqliteStore.open(':memory:', () => clock.now() + (o.storeSkewMs ?? 0));
  await o.prepare?.(store);
  const registry = new WatcherRegistry(watchers(clock));
  const jf = parseJobsFile({ text: lines.join('\n'), file: 'core.conf', env: {}, watchers: registry, now: T0 });
  assert.deepEqual(jf.diagnostics.filter((d) => d.severity === 'error'), []);
  const events: RunEvent[] = [];
  const bus = new EventBus();
  bus.add({ emit: (e) => events.push(e) });
  const scheduler = new Scheduler({ jobs: jf.jobs, registry, store, clock, log: silent, events: bus, instance: 'core', maxClockSkewMs: o.maxClockSkewMs ?? 5_000 });
  await scheduler.start();
  let running = jf.jobs;
  return {
    clock,
    store,
    scheduler,
    events,
    reload(next) {
      const parsed = parseJobsFile({ text: next.join('\n'), file: 'core.conf', env: {}, watchers: registry, now: clock.now() });
      assert.deepEqual(parsed.diagnostics.filter((d) => d.severity === 'error'), []);
      scheduler.reconfigure(diffJobs(running, parsed.jobs));
      running = parsed.jobs;
    },
    of: (job, kind) =>
      events
        .filter((e) => e.job === job && e.event === kind)
        .map((e) => [e.mode === 'interval' ? e.nominal - T0 : e.occurrence - T0, e.event === 'run-finished' ? e.outcome : e.event === 'occurrence-skipped' ? e.reason : e.event === 'run-started' ? `attempt ${e.attempt}` : e.event]),
  };
}

interface Case {
  name: string;
  lines: string[];
  /** Fake time to let pass after start. */
  ms: number;
  job: string;
  kind: RunEvent['event'];
  expect: Array<[number, string]>;
}

const cases: Case[] = [
  {
    name: 'cron: every second, each occurrence once, on time',
    lines: ['* * * * * * cron work name=tick'],
    ms: 3_600, job: 'tick', kind: 'run-finished',
    expect: [[500, 'ok'], [1_500, 'ok'], [2_500, 'ok'], [3_500, 'ok']],
  },
  {
    name: 'cron: overlap=allow runs occurrences while the previous one still runs',
    lines: ['* * * * * * cron work name=long ms=2500'],
    ms: 3_600, job: 'long', kind: 'run-started',
    expect: [[500, 'attempt 1'], [1_500, 'attempt 1'], [2_500, 'attempt 1'], [3_500, 'attempt 1']],
  },
  {
    name: 'cron: overlap=skip skips the occurrences that come while a run lasts',
    lines: ['* * * * * * cron work name=long ms=2200 overlap=skip'],
    ms: 5_600, job: 'long', kind: 'occurrence-skipped',
    expect: [[1_500, 'overlap'], [2_500, 'overlap'], [4_500, 'overlap'], [5_500, 'overlap']],
  },
  {
    name: 'rate: every 2 s from the epoch, whether or not the previous run finished',
    lines: ['@every 2s rate work name=r ms=3000'],
    ms: 6_000, job: 'r', kind: 'run-started',
    expect: [[1_500, 'attempt 1'], [3_500, 'attempt 1'], [5_500, 'attempt 1']],
  },
  {
    name: 'interval: the next run starts 2 s after the previous one ended',
    lines: ['@every 2s interval work name=iv ms=1000'],
    // Runs at 0-1 s, 3-4 s, 6-7 s, 9-10 s: the nominal time of each is its due time.
    ms: 9_500, job: 'iv', kind: 'run-started',
    expect: [[0, 'attempt 1'], [3_000, 'attempt 1'], [6_000, 'attempt 1'], [9_000, 'attempt 1']],
  },
  {
    name: 'interval: a failed run counts as ended too; the next is due an interval after it',
    lines: ['@every 2s interval fail name=ivf'],
    ms: 4_500, job: 'ivf', kind: 'run-finished',
    expect: [[0, 'failed'], [2_000, 'failed'], [4_000, 'failed']],
  },
  {
    name: 'timeout: a run that never settles ends at its timeout plus the abort grace',
    lines: ['* * * * * * cron hang name=h timeout=700ms overlap=skip'],
    ms: 2_300, job: 'h', kind: 'run-finished',
    expect: [[500, 'timeout']], // 0.5 + 0.7 + 1 s grace = 2.2 s
  },
];

describe('scheduler core on a fake clock', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const w = await world(c.lines);
      await w.clock.advance(c.ms);
      assert.deepEqual(w.of(c.job, c.kind), c.expect);
      w.scheduler.stopClaiming();
      w.scheduler.abort(true);
      await w.clock.advance(10);
      await w.store.close();
    });
  }

  test('retries: attempts 1..3 retry-delay apart, one failed run with 3 attempts', async () => {
    const w = await world(['* * * * * * cron fail name=f retries=2 retry-delay=300ms overlap=skip']);
    await w.clock.advance(1_400);
    const started = w.events.filter((e) => e.job === 'f' && e.event === 'run-started');
    assert.deepEqual(started.map((e) => (e.event === 'run-started' ? e.attempt : 0)), [1, 2, 3]);
    const finished = w.events.find((e) => e.event === 'run-finished' && e.job === 'f');
    assert.ok(finished && finished.event === 'run-finished');
    assert.equal(finished.outcome, 'failed');
    assert.equal(finished.attempts, 3);
    assert.equal(finished.endedAt - finished.startedAt, 600, 'two delays of 300 ms');
    await w.store.close();
  });

  test('lock loss: a run whose lock vanishes is aborted as lock-lost before the TTL', async () => {
    const w = await world(['* * * * * * cron work name=held ms=60000 lock-ttl=3s overlap=skip']);
    await w.clock.advance(700); // started at 0.5 s
    assert.equal((await w.store.running('held')).length, 1);
    w.store.db.prepare('DELETE FROM running WHERE job = ?').run('held');
    await w.clock.advance(1_200); // the next renewal (ttl/3 = 1 s after the start) finds it gone
    const finished = w.events.find((e) => e.event === 'run-finished' && e.job === 'held');
    assert.ok(finished && finished.event === 'run-finished', 'the run ended');
    assert.equal(finished.outcome, 'lock-lost');
    assert.ok(finished.endedAt - T0 < 500 + 3_000, 'before the lock would have expired');
    await w.store.close();
  });

  test('misfire=once: the latest occurrence missed while no instance was up runs once at start', async () => {
    const w = await world(['*/10 * * * * * cron work name=m misfire=once'], {
      // The fleet claimed an occurrence long ago, then stopped: the latest missed one is due.
      prepare: async (store) => {
        await store.claim({ job: 'm', occurrence: T0 - 60_500, holder: { instance: 'old', occurrence: T0 - 60_500, startedAt: T0 - 60_500 }, ttlMs: 1_000, skipIfRunning: false });
      },
    });
    await w.clock.advance(100);
    assert.deepEqual(w.of('m', 'run-finished'), [[-500, 'ok']]); // 00:00:00, the latest */10 before T0
    await w.store.close();
  });

  test('overloaded: a loop that wakes seconds late skips the occurrence, never starts it late', async () => {
    const w = await world(['* * * * * * cron work name=t']);
    await w.clock.advance(600); // 0.5 s ran
    await w.clock.jump(3_000); // frozen: 1.5, 2.5, 3.5 fall due during the freeze
    const skipped = w.events.filter((e) => e.event === 'occurrence-skipped' && e.job === 't');
    assert.ok(skipped.length >= 1, 'the occurrences missed during the freeze are skipped');
    assert.ok(skipped.every((e) => e.event === 'occurrence-skipped' && e.reason === 'overloaded' && (e.lateMs ?? 0) > 500));
    const late = w.events.filter((e) => e.event === 'run-started' && e.latenessMs > 500);
    assert.deepEqual(late, [], 'nothing starts more than 500 ms late');
    assert.ok(w.scheduler.pressure.overloaded, 'the overload is reported');
    await w.store.close();
  });

  test('clock skew beyond MAX_CLOCK_SKEW: every occurrence skipped as clock-skew, nothing claimed', async () => {
    const w = await world(['* * * * * * cron work name=s'], { storeSkewMs: 10_000, maxClockSkewMs: 5_000 });
    await w.clock.advance(2_100);
    assert.deepEqual(w.of('s', 'occurrence-skipped'), [[500, 'clock-skew'], [1_500, 'clock-skew']]);
    assert.equal(await w.store.newestClaim('s'), null);
    await w.store.close();
  });

  test('shutdown: stop claiming, drain what runs, abort what remains; locks released', async () => {
    const w = await world(['* * * * * * cron deaf name=d ms=60000 overlap=skip', '* * * * * * cron work name=quick']);
    await w.clock.advance(700);
    w.scheduler.stopClaiming();
    const drained = w.scheduler.drain(1_000);
    await w.clock.advance(1_000);
    assert.equal(await drained, false, 'the deaf run is still running after the drain timeout');
    w.scheduler.abort();
    await w.clock.advance(1_000); // the abort grace
    const d = w.events.find((e) => e.event === 'run-finished' && e.job === 'd');
    assert.ok(d && d.event === 'run-finished');
    assert.equal(d.outcome, 'aborted');
    assert.deepEqual(await w.store.running('d'), [], 'its lock was released');
    assert.equal(w.scheduler.runningCount, 0);
    const quickRuns = w.of('quick', 'run-finished').length;
    await w.clock.advance(3_000);
    assert.equal(w.of('quick', 'run-finished').length, quickRuns, 'no new occurrence after stopClaiming');
    await w.store.close();
  });

  test('pause: a paused cron job\'s occurrences are skipped as paused, an interval job skips once per interval; resume runs again', async () => {
    const w = await world(['* * * * * * cron work name=p', '@every 1s interval work name=iv']);
    await w.clock.advance(1_100); // p ran at 0.5 s; iv at 0 s and 1 s
    await w.store.pause(['p', 'iv'], { by: 'alice@host1', until: null, reason: 'migration' });
    await w.clock.advance(2_000); // to 3.1 s
    assert.deepEqual(w.of('p', 'occurrence-skipped'), [[1_500, 'paused'], [2_500, 'paused']]);
    assert.deepEqual(w.of('iv', 'occurrence-skipped'), [[2_000, 'paused'], [3_000, 'paused']], 'one paused skip per attempt, an interval apart');
    const skip = w.events.find((e) => e.event === 'occurrence-skipped' && e.job === 'p');
    assert.ok(skip && skip.event === 'occurrence-skipped' && /by alice@host1 since .* migration/.test(skip.detail ?? ''), `the skip says who paused and why: ${JSON.stringify(skip)}`);
    await w.store.resume(['p', 'iv']);
    await w.clock.advance(1_500); // to 4.6 s
    assert.deepEqual(w.of('p', 'run-finished'), [[500, 'ok'], [3_500, 'ok'], [4_500, 'ok']], 'the paused occurrences never ran, later ones do');
    const ivStarts = w.events.flatMap((e) => (e.event === 'run-finished' && e.job === 'iv' ? [e.startedAt - T0] : []));
    assert.deepEqual(ivStarts, [0, 1_000, 4_000]);
    w.scheduler.stopClaiming();
    await w.store.close();
  });

  test('reload: an added job is planned, a removed one is no longer claimed, a changed one runs its new definition from its next occurrence', async () => {
    const w = await world(['* * * * * * cron work name=keep', '* * * * * * cron work name=gone', '*/2 * * * * * cron work name=change']);
    await w.clock.advance(1_000); // to 1.5 s: keep and gone ran at 0.5 s; change is due at 2 s
    w.reload(['* * * * * * cron work name=keep', '*/3 * * * * * cron work name=change', '* * * * * * cron work name=added']);
    await w.clock.advance(3_700); // to 5.2 s
    assert.deepEqual(w.of('keep', 'run-finished').map(([t]) => t), [500, 1_500, 2_500, 3_500, 4_500], 'an unchanged job is untouched');
    assert.deepEqual(w.of('gone', 'run-finished').map(([t]) => t), [500], 'a removed job is no longer claimed');
    // */2 would have run at seconds 2 and 4 (1.5 s, 3.5 s); */3 runs at second 3 (2.5 s).
    assert.deepEqual(w.of('change', 'run-finished').map(([t]) => t), [2_500], 'the new schedule (*/3) from the next occurrence');
    assert.deepEqual(w.of('added', 'run-finished').map(([t]) => t), [1_500, 2_500, 3_500, 4_500]);
    w.scheduler.stopClaiming();
    await w.store.close();
  });

  test('reload: an interval job redefined while it runs finishes that run, then runs on its new interval', async () => {
    const w = await world(['@every 1s interval work name=iv ms=1500']);
    await w.clock.advance(500); // the first run (0 - 1.5 s) is in flight
    w.reload(['@every 3s interval work name=iv ms=100']);
    await w.clock.advance(5_000); // to 5.5 s
    const runs = w.events.flatMap((e) => (e.event === 'run-finished' && e.job === 'iv' ? [[e.startedAt - T0, e.durationMs]] : []));
    // The first run ends at 1.5 s (old definition); the next is due 3 s after it ended (4.5 s).
    assert.deepEqual(runs, [[0, 1_500], [4_500, 100]]);
    w.scheduler.stopClaiming();
    await w.store.close();
  });

  test('reload: a job removed and added back runs again; enabled=false in a reload stops it', async () => {
    const w = await world(['* * * * * * cron work name=j']);
    await w.clock.advance(1_000); // ran at 0.5 s
    w.reload([]);
    await w.clock.advance(1_000); // 1.5 s not run
    w.reload(['* * * * * * cron work name=j']);
    await w.clock.advance(1_000); // 2.5 s runs
    w.reload(['* * * * * * cron work name=j enabled=false']);
    await w.clock.advance(2_000);
    assert.deepEqual(w.of('j', 'run-finished').map(([t]) => t), [500, 2_500]);
    w.scheduler.stopClaiming();
    await w.store.close();
  });
});
