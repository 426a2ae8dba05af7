/**
 * jitter=: the offsets (pure, pinned for a few names so a change of hash is caught), and the
 * scheduler core on a fake clock starting jittered runs at nominal + offset while the occurrence
 * id, ctx.occurrence and the claim stay the nominal time. The store is the embedded one in memory
 * on the same fake clock, so nothing here waits in real time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Logger } from '../../src/base/logger.js';
import { SqliteStore } from '../../src/coordination/embedded/sqlite-store.js';
import { jitteredStart, nextStart } from '../../src/jobsfile/job.js';
import { parseJobsFile } from '../../src/jobsfile/parse.js';
import { jitterOffset } from '../../src/schedule/jitter.js';
import { parseScheduleExpr, rateSchedule } from '../../src/schedule/schedule.js';
import { EventBus, type RunEvent } from '../../src/scheduler/events.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { defineWatcher, type Watcher, type WatcherContext } from '../../src/watchers/define-watcher.js';
import { WatcherRegistry } from '../../src/watchers/registry.js';
import { FakeClock } from '../helpers/fake-clock.js';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 0, 1);

describe('jitter offsets', () => {
  test('pinned: the same offsets on every instance, across restarts and versions', () => {
    const table: Array<[name: string, occurrence: number, jitterMs: number, offset: number]> = [
      ['backup', T, HOUR, 1_852_844],
      ['backup', T + HOUR, HOUR, 1_432_502],
      ['backup', T + 2 * HOUR, HOUR, 2_855_096],
      ['clean', T, HOUR, 3_418_002],
      ['clean', T + HOUR, HOUR, 2_322_968],
      ['tick', T, HOUR, 3_151_630],
      // interval generations are occurrence ids too
      ['backup', 7, 1_000, 695],
      ['clean', 7, 1_000, 920],
    ];
    for (const [name, occurrence, jitterMs, offset] of table) assert.equal(jitterOffset(name, occurrence, jitterMs), offset, `${name}@${occurrence}`);
  });

  test('in [0, jitter), whole milliseconds, spread over the range, different across occurrences', () => {
    const buckets = new Array<number>(10).fill(0);
    const distinct = new Set<number>();
    for (let k = 0; k < 5_000; k++) {
      const offset = jitterOffset('tick', T + k * 1_000, 1_000);
      assert.ok(Number.isInteger(offset) && offset >= 0 && offset < 1_000, `offset ${offset}`);
      buckets[Math.floor(offset / 100)]!++;
      distinct.add(offset);
    }
    // Consecutive occurrence ids differ only in their last digits: the offsets must not cluster.
    for (const b of buckets) assert.ok(b > 400 && b < 600, `buckets ${buckets.join(' ')}`);
    assert.ok(distinct.size > 900, `${distinct.size} distinct offsets`);
  });

  test('no jitter, or a jitter of 1 ms, is no offset; a job name changes the offsets', () => {
    assert.equal(jitterOffset('backup', T, 0), 0);
    assert.equal(jitterOffset('backup', T, 1), 0);
    const a = [0, 1, 2, 3].map((k) => jitterOffset('a', T + k * HOUR, HOUR));
    const b = [0, 1, 2, 3].map((k) => jitterOffset('b', T + k * HOUR, HOUR));
    assert.notDeepEqual(a, b);
  });

  test('jitteredStart: nominal plus the offset of the occurrence id', () => {
    const job = { name: 'backup', jitterMs: HOUR };
    assert.equal(jitteredStart(job, T), T + 1_852_844);
    assert.equal(jitteredStart(job, 7, T), T + jitterOffset('backup', 7, HOUR), 'interval: the generation\'s offset, from the due time');
    assert.equal(jitteredStart({ name: 'backup', jitterMs: 0 }, T), T);
  });
});

describe('nextStart: the first occurrence whose jittered start is after a time', () => {
  const expr = parseScheduleExpr('@every 1h');
  const schedule = expr.kind === 'every' ? rateSchedule(expr) : (undefined as never);
  const job = { name: 'backup', jitterMs: HOUR }; // offset of T: 1_852_844 ms (about 30 min)

  const table: Array<[after: number, occurrence: number]> = [
    [T - 1, T],
    [T, T], // T's start is still to come at T
    [T + 1_852_843, T],
    [T + 1_852_844, T + HOUR], // at T's start exactly: the next one
    [T + HOUR - 1, T + HOUR],
  ];
  for (const [after, occurrence] of table) {
    test(`after T + ${after - T} ms`, () => {
      assert.deepEqual(nextStart(job, schedule, after), { occurrence, startAt: jitteredStart(job, occurrence) });
    });
  }

  test('consecutive starts keep the occurrences\' order, one each', () => {
    const seen: number[] = [];
    for (let s = nextStart(job, schedule, T - 1); s !== null && seen.length < 48; s = nextStart(job, schedule, s.startAt)) seen.push(s.occurrence);
    assert.deepEqual(seen, Array.from({ length: 48 }, (_, i) => T + i * HOUR));
  });
});

// ---- the scheduler core

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0) + 500;
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

interface World {
  clock: FakeClock;
  store: SqliteStore;
  scheduler: Scheduler;
  events: RunEvent[];
  /** ctx.occurrence (ms) and the clock at each watcher run, per job. */
  seen: Array<{ job: string; occurrence: number; at: number }>;
  close(): Promise<void>;
}

async function world(lines: string[], start = T0): Promise<World> {
  const clock = new FakeClock(start);
  const store = SqliteStore.open(':memory:', () => clock.now());
  const seen: World['seen'] = [];
  const busy = (ms: number, ctx: WatcherContext): Promise<void> =>
    new Promise((resolve, reject) => {
      const cancel = clock.setTimer(ms, resolve);
      ctx.signal.addEventListener('abort', () => (cancel(), reject(ctx.signal.reason)), { once: true });
    });
  const registry = new WatcherRegistry([
    defineWatcher({
      name: 'work',
      options: { ms: { type: 'int', default: 0, description: '' } },
      run: async (ctx) => {
        seen.push({ job: ctx.job, occurrence: ctx.occurrence.getTime(), at: clock.now() });
        if (ctx.options.ms > 0) await busy(ctx.options.ms, ctx);
      },
    }),
  ] as Watcher[]);
  const jf = parseJobsFile({ text: lines.join('\n'), file: 'jitter.conf', env: {}, watchers: registry, now: start });
  assert.deepEqual(jf.diagnostics.filter((d) => d.severity === 'error'), []);
  const events: RunEvent[] = [];
  const bus = new EventBus();
  bus.add({ emit: (e) => events.push(e) });
  const scheduler = new Scheduler({ jobs: jf.jobs, registry, store, clock, log: silent, events: bus, instance: 'core', maxClockSkewMs: 5_000 });
  await scheduler.start();
  return {
    clock,
    store,
    scheduler,
    events,
    seen,
    close: async () => {
      scheduler.stopClaiming();
      scheduler.abort(true);
      await clock.advance(10);
      await store.close();
    },
  };
}

const started = (w: World, job: string) => w.events.filter((e): e is Extract<RunEvent, { event: 'run-started' }> => e.event === 'run-started' && e.job === job);
const finished = (w: World, job: string) => w.events.filter((e): e is Extract<RunEvent, { event: 'run-finished' }> => e.event === 'run-finished' && e.job === job);

describe('the scheduler starts jittered runs at nominal + offset', () => {
  test('cron: every occurrence starts at its offset, on time; its id, ctx.occurrence and claim stay nominal', async () => {
    const w = await world(['* * * * * * cron work name=spread jitter=900ms']);
    await w.clock.advance(5_000);
    const runs = finished(w, 'spread');
    // Occurrences at T0 + 500 (the second boundary), + 1500, ...: 5 s hold 5 whose starts have come.
    assert.ok(runs.length >= 4, `${runs.length} runs`);
    for (const r of runs) {
      assert.equal(r.occurrence % 1_000, 0, 'the occurrence id is the nominal second');
      assert.equal(r.nominal, r.occurrence);
      assert.equal(r.outcome, 'ok');
      assert.equal(r.startedAt, r.occurrence + jitterOffset('spread', r.occurrence, 900), `run of ${new Date(r.occurrence).toISOString()}`);
      assert.equal(r.latenessMs, 0, 'lateness is measured from the jittered start');
    }
    assert.ok(runs.some((r) => r.startedAt - r.occurrence > 0), 'some start is later than its nominal time');
    assert.deepEqual(w.seen.map((s) => s.occurrence), runs.map((r) => r.occurrence), 'ctx.occurrence is the nominal time');
    assert.deepEqual(w.seen.map((s) => s.at), runs.map((r) => r.startedAt), 'the watcher runs at the jittered start');
    assert.equal(await w.store.newestClaim('spread'), runs.at(-1)!.occurrence, 'claims are by the nominal time');
    await w.close();
  });

  test('cron: nothing starts before its offset (the claim is taken at most 250 ms ahead, the start waits)', async () => {
    const w = await world(['*/2 * * * * * cron work name=wait jitter=1900ms']);
    const nominal = T0 + 1_500; // 00:00:02
    const startAt = nominal + jitterOffset('wait', nominal, 1_900);
    await w.clock.advance(startAt - T0 - 1);
    assert.equal(started(w, 'wait').filter((e) => e.occurrence === nominal).length, 0, 'not yet');
    await w.clock.advance(1);
    assert.deepEqual(started(w, 'wait').map((e) => e.occurrence), [nominal]);
    await w.close();
  });

  test('rate: each start at nominal + offset, ids on the epoch grid', async () => {
    const w = await world(['@every 2s rate work name=r jitter=2s']);
    await w.clock.advance(8_000);
    const runs = finished(w, 'r');
    assert.ok(runs.length >= 3, `${runs.length} runs`);
    for (const r of runs) {
      assert.equal(r.occurrence % 2_000, 0);
      assert.equal(r.startedAt, r.occurrence + jitterOffset('r', r.occurrence, 2_000));
    }
    await w.close();
  });

  test('started between an occurrence and its jittered start: that occurrence still runs', async () => {
    // Occurrences every 10 s; started 0.5 s after 00:00:00. Pick a name whose offset for 00:00:00 is later than that.
    const nominal = T0 - 500;
    const name = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((n) => `late-${n}`).find((n) => jitterOffset(n, nominal, 9_000) > 2_000)!;
    assert.ok(name, 'a name with a late offset');
    const w = await world([`*/10 * * * * * cron work name=${name} jitter=9s`]);
    await w.clock.advance(9_000);
    const runs = finished(w, name);
    assert.deepEqual(runs.map((r) => [r.occurrence, r.startedAt]), [[nominal, nominal + jitterOffset(name, nominal, 9_000)]]);
    await w.close();
  });

  test('interval: each generation starts at its due time + its offset, holding the lock while it waits', async () => {
    // The first generation is claimed at T0 (its id: the store's clock in ms). A name whose first
    // wait is longer than the 3 s lock, so the lock must be renewed while the start waits.
    const name = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((n) => `iv-${n}`).find((n) => jitterOffset(n, T0, 10_000) > 6_000)!;
    assert.ok(name, 'a name with a long first wait');
    const w = await world([`@every 10s interval work name=${name} jitter=10s lock-ttl=3s ms=1500`]);
    await w.clock.advance(5_000);
    assert.equal((await w.store.running(name)).length, 1, 'the generation is claimed at once; 5 s later its lock is still held');
    assert.deepEqual(started(w, name), [], 'not started yet');
    await w.clock.advance(30_000);
    const runs = finished(w, name);
    assert.ok(runs.length >= 2, `${runs.length} runs`);
    assert.equal(runs[0]!.occurrence, T0);
    for (const r of runs) {
      assert.equal(r.outcome, 'ok', 'the lock was still held when the run renewed it');
      assert.equal(r.startedAt, r.nominal + jitterOffset(name, r.occurrence, 10_000), `generation ${r.occurrence}`);
      assert.equal(r.latenessMs, 0);
    }
    // The second generation became due 10 s after the first ended.
    assert.equal(runs[1]!.nominal, runs[0]!.endedAt + 10_000);
    await w.close();
  });

  test('interval: a shutdown during the wait releases the lock and drains at once', async () => {
    const name = ['x', 'y', 'z', 'w'].map((n) => `hold-${n}`).find((n) => jitterOffset(n, T0, 60_000) > 10_000)!;
    assert.ok(name, 'a name with a long first wait');
    const w = await world([`@every 1m interval work name=${name} jitter=1m`]);
    await w.clock.advance(1_000);
    assert.equal((await w.store.running(name)).length, 1, 'waiting, lock held');
    w.scheduler.stopClaiming();
    const drained = w.scheduler.drain(5_000);
    await w.clock.advance(100);
    assert.equal(await drained, true, 'nothing left in flight');
    assert.deepEqual(await w.store.running(name), [], 'the lock was released');
    assert.deepEqual(started(w, name), [], 'it never started');
    await w.store.close();
  });
});
