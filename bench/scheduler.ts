/**
 * Scheduler benchmarks (issue targets in brackets):
 * - lateness: 1,000 jobs firing every second for BENCH_SECONDS (default 60) with an in-process
 *   no-op watcher; p50/p99/max start lateness, CPU and RSS; the same 1,000 jobs on croner [p99 <= 10 ms, below croner's];
 * - idle: 10,000 jobs registered, RSS [<= 200 MB];
 * - round trips: Redis commands per occurrence, counted at the connection [<= 3 plus renewals].
 * Each phase runs in its own process so memory figures don't mix.
 */
import { fileURLToPath } from 'node:url';
import { connectRedis, type RedisConnection } from '../src/coordination/redis/client.js';
import { RedisStore } from '../src/coordination/redis/redis-store.js';
import { SqliteStore } from '../src/coordination/embedded/sqlite-store.js';
import type { CoordinationStore } from '../src/coordination/store.js';
import { parseJobsFile } from '../src/jobsfile/parse.js';
import type { Logger } from '../src/base/logger.js';
import { systemClock } from '../src/scheduler/clock.js';
import { EventBus } from '../src/scheduler/events.js';
import { Scheduler } from '../src/scheduler/scheduler.js';
import { defineWatcher, type Watcher } from '../src/watchers/define-watcher.js';
import { BUILTIN_WATCHERS, WatcherRegistry } from '../src/watchers/registry.js';
import { f, latenessCroner, measure, runPhase, type Stats } from './measure.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
/** Seconds run first and not counted (JIT warm-up), the same for every scheduler measured. */
const WARMUP_SECONDS = 5;
const REDIS_URL = process.env.IAMWATCH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

function jobs(count: number, spec: string) {
  const text = Array.from({ length: count }, (_, i) => `${spec} cron noop name=j${i}`).join('\n');
  const noop = defineWatcher({ name: 'noop', run: async () => {} });
  const registry = new WatcherRegistry([...BUILTIN_WATCHERS, noop as Watcher]);
  const parsed = parseJobsFile({ text, file: 'bench', env: {}, watchers: registry, now: Date.now() });
  return { jobs: parsed.jobs, registry, noop };
}

async function latenessIamwatch(storeKind: 'local' | 'redis'): Promise<Stats> {
  const { jobs: list, registry, noop } = jobs(1000, '* * * * * *');
  let store: CoordinationStore;
  let connection: RedisConnection | undefined;
  if (storeKind === 'redis') {
    connection = connectRedis(REDIS_URL, { onError: () => {} });
    await connection.ready(5000);
    store = new RedisStore(connection, `bench-${process.pid}-${Date.now()}`);
  } else store = SqliteStore.open(':memory:');
  return measure(SECONDS, WARMUP_SECONDS, async (record) => {
    noop.run = async (ctx) => record(Date.now() - ctx.occurrence.getTime());
    const scheduler = new Scheduler({ jobs: list, registry, store, clock: systemClock, log: silent, events: new EventBus(), instance: 'bench', maxClockSkewMs: 5000 });
    await scheduler.start();
    return async () => {
      scheduler.stopClaiming();
      await scheduler.drain(5000);
      await store.close();
    };
  });
}

async function idle(): Promise<{ jobs: number; rssMb: number; heapMb: number }> {
  const { jobs: list, registry } = jobs(10_000, '0 0 1 1 *');
  const scheduler = new Scheduler({ jobs: list, registry, store: SqliteStore.open(':memory:'), clock: systemClock, log: silent, events: new EventBus(), instance: 'bench', maxClockSkewMs: 5000 });
  await scheduler.start();
  await new Promise((r) => setTimeout(r, 2000));
  (globalThis as { gc?: () => void }).gc?.();
  const mem = process.memoryUsage();
  scheduler.stopClaiming();
  return { jobs: list.length, rssMb: mem.rss / 2 ** 20, heapMb: mem.heapUsed / 2 ** 20 };
}

async function roundTrips(): Promise<{ occurrences: number; commands: number; perOccurrence: number; instances: number }> {
  const { jobs: list, registry, noop } = jobs(100, '* * * * * *');
  let commands = 0;
  let runs = 0;
  noop.run = async () => void runs++;
  const prefix = `bench-rt-${process.pid}-${Date.now()}`;
  const schedulers: Scheduler[] = [];
  const connections: RedisConnection[] = [];
  // Two instances compete, as in a fleet: the loser's claim is a round trip too.
  for (const instance of ['a', 'b']) {
    const raw = connectRedis(REDIS_URL, { onError: () => {} });
    await raw.ready(5000);
    connections.push(raw);
    const counting: RedisConnection = { ...raw, send: (args, key, ms) => (commands++, raw.send(args, key, ms)), ready: raw.ready, close: raw.close, isReady: true };
    schedulers.push(new Scheduler({ jobs: list, registry, store: new RedisStore(counting, prefix), clock: systemClock, log: silent, events: new EventBus(), instance, maxClockSkewMs: 5000 }));
  }
  await new Promise((r) => setTimeout(r, 1500 - (Date.now() % 1000)));
  for (const s of schedulers) await s.start();
  commands = 0;
  runs = 0;
  await new Promise((r) => setTimeout(r, 10_000));
  const counted = commands;
  const ran = runs;
  for (const s of schedulers) {
    s.stopClaiming();
    await s.drain(5000);
  }
  for (const c of connections) await c.close();
  return { occurrences: ran, commands: counted, perOccurrence: counted / ran, instances: 2 };
}

const phases: Record<string, () => Promise<unknown>> = {
  'lateness-local': () => latenessIamwatch('local'),
  'lateness-redis': () => latenessIamwatch('redis'),
  'lateness-croner': () => latenessCroner(1000, SECONDS, WARMUP_SECONDS),
  idle,
  'round-trips': roundTrips,
};

const runSchedulerPhase = (name: string): Promise<Record<string, number>> => runPhase(fileURLToPath(import.meta.url), [name]);

export async function benchScheduler(): Promise<void> {
  console.log(`\nScheduler: 1,000 jobs firing every second for ${SECONDS} s after ${WARMUP_SECONDS} s of warm-up, no-op watcher (start lateness = actual start - nominal time)`);
  console.log('scheduler                      runs     p50 ms  p99 ms  max ms  CPU %   RSS MB');
  for (const [label, phase] of [['iamwatch, in-process store', 'lateness-local'], ['iamwatch, Redis store', 'lateness-redis'], ['croner 1,000 Cron objects', 'lateness-croner']] as const) {
    const s = await runSchedulerPhase(phase);
    console.log(`${label.padEnd(30)} ${String(s.runs).padStart(6)}  ${f(s.p50!).padStart(6)}  ${f(s.p99!).padStart(6)}  ${f(s.max!).padStart(6)}  ${f(s.cpuPct!).padStart(5)}  ${f(s.rssMb!).padStart(6)}`);
  }
  const i = await runSchedulerPhase('idle');
  console.log(`\nIdle: ${i.jobs} jobs registered: RSS ${f(i.rssMb!)} MB (heap ${f(i.heapMb!)} MB)  [target <= 200 MB]`);
  const rt = await runSchedulerPhase('round-trips');
  console.log(`Redis round trips: ${rt.commands} commands for ${rt.occurrences} occurrences run by ${rt.instances} competing instances = ${f(rt.perOccurrence!, 2)} per occurrence  [target <= 3 plus renewals]`);
}

const main = process.argv[1] === fileURLToPath(import.meta.url);
if (main && process.argv[2]) {
  const result = await phases[process.argv[2]]!();
  console.log(JSON.stringify(result));
  process.exit(0);
} else if (main) {
  await benchScheduler();
}
