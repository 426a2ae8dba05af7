/**
 * `npm run bench -- scale`: iamwatch at scale, as real `iamwatch run` processes (the built CLI,
 * JSON log lines to files on disk) against a private redis-server on a free port, so INFO
 * counters belong to this benchmark alone, with croner measured the same way beside it:
 *  1. 10,000 jobs every second, 2 instances on 1 Redis, no-op plugin watcher: share of expected
 *     occurrences run, start lateness, duplicates, skips by reason, peak RSS, CPU, Redis commands;
 *  2. 10,000 jobs once a minute (one burst), 2 instances, two bursts counted;
 *  3. 1,000 jobs every second, one instance, the embedded store (no REDIS_URL);
 *  4. croner: 10,000 and 1,000 jobs every second in one child process each;
 *  5. 100,000 yearly jobs, idle, one instance, embedded store: spawn to `started`, RSS after 10 s.
 * Phases 1, 3 and 4 count SCALE_SECONDS (default 60) after a 10 s warm-up that is not counted.
 * Occurrences are counted by nominal time; a counted one that starts up to 5 s after the window
 * still counts. Every process started here is killed at the end, when a phase fails and on
 * Ctrl-C; every wait is bounded. A phase that cannot start is reported failed with the stderr
 * tail of the process, and the next phase runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ROOT } from '../test/helpers/cli.js';
import { openClient, startRedisServer, type PrivateRedis, type TestRedisClient } from '../test/helpers/redis.js';
import { f, latenessCroner, runPhase, table } from './measure.js';
import { callsBetween, commandCalls } from './redis-commandstats.js';
import { analyseLogs, type WindowReport } from './scale-logs.js';
import { Instance, PhaseFailed, killAll, noopJobs, writeJobsDir } from './scale-procs.js';

const SECONDS = Number(process.env.SCALE_SECONDS ?? 60);
const WARMUP_SECONDS = 10;
/** After the counted window, how long late runs of counted occurrences may still start. */
const GRACE_MS = 5_000;
/** How long an instance may take from spawn to its `started` line (100,000 jobs included). */
const STARTED_TIMEOUT_MS = 60_000;
/** Seconds of idle before phase 5 reads RSS. */
const IDLE_SECONDS = 10;
const MB = 2 ** 20;

interface Context {
  base: string;
  redis: PrivateRedis;
  client: TestRedisClient;
  signal: AbortSignal;
  /** Figures of earlier phases, for phase 4's side-by-side table. */
  rows: Map<string, { runPct: number; p50: number; p99: number; max: number; cpuPct: number; rssMb: number }>;
}

const num = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const verdict = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
const byCount = (r: Record<string, number>): string =>
  Object.entries(r)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${num(n)}`)
    .join(', ') || 'none';

function sleepUntil(t: number, signal: AbortSignal): Promise<void> {
  return delay(Math.max(0, t - Date.now()), undefined, { signal });
}

function redisCpuSeconds(info: string): number {
  const get = (k: string): number => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return get('used_cpu_user') + get('used_cpu_sys');
}

const load = (): string => `load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`;

function print(title: string, rows: string[][], notes: string[] = []): void {
  console.log(`\n${title}`);
  console.log(table(['measure', 'value', 'target', ''], rows, ['l', 'l', 'l', 'l']));
  for (const n of [...notes, load()]) console.log(n);
}

interface FleetPhase {
  key: string;
  title: string;
  jobs: number;
  schedule: string;
  instances: number;
  redis: boolean;
  /** The counted window of nominal times [from, to) and how many occurrences it holds. */
  window(warmedUp: number): { from: number; to: number; expected: number };
  p99TargetMs: number;
  runTargetPct: number;
  /** Redis commands per instance per second, when the phase has a target for them. */
  commandsTarget?: number;
  /** Lines printed under the table about the window's occurrences. */
  notes(w: WindowReport): string[];
}

interface FleetResult {
  report: WindowReport;
  instances: Instance[];
  cpuPct: number[];
  /** Commands (all clients) in the window, by command; empty without Redis. */
  commands: [string, number][];
  commandSeconds: number;
  redisCpuPct: number;
  exitedEarly: string[];
}

async function runFleet(ctx: Context, p: FleetPhase): Promise<FleetResult> {
  const dir = path.join(ctx.base, p.key);
  const settings: Record<string, string> = p.redis ? { REDIS_URL: ctx.redis.url, IAMWATCH_PREFIX: `scale-${p.key}` } : {};
  const file = writeJobsDir(dir, settings, noopJobs(p.jobs, p.schedule));
  const ids = Array.from({ length: p.instances }, (_, i) => `${p.key}-${String.fromCharCode(97 + i)}`);
  const instances = ids.map((id) => new Instance(id, file));
  try {
    const started = await Promise.all(instances.map((i) => i.waitStarted(STARTED_TIMEOUT_MS, ctx.signal)));
    const { from, to, expected } = p.window(Math.max(...started) + WARMUP_SECONDS * 1000);
    // Commands and CPU over a window as long as the counted one, half a second earlier, so that
    // claims sent just before an occurrence's instant fall inside it.
    const statsFrom = from - 500;
    const statsTo = to - 500;
    await sleepUntil(statsFrom, ctx.signal);
    const before = p.redis ? await commandCalls(ctx.client) : new Map<string, number>();
    const redisCpu0 = redisCpuSeconds(await ctx.client.info('cpu'));
    for (const i of instances) i.markCpu();
    const t0 = Date.now();
    await sleepUntil(statsTo, ctx.signal);
    const after = p.redis ? await commandCalls(ctx.client) : new Map<string, number>();
    const redisCpu = redisCpuSeconds(await ctx.client.info('cpu')) - redisCpu0;
    const wall = (Date.now() - t0) / 1000;
    const cpuPct = instances.map((i) => (i.cpuSecondsSinceMark() / wall) * 100);
    await sleepUntil(to + GRACE_MS, ctx.signal);
    const exitedEarly = instances.filter((i) => !i.running).map((i) => i.describeExit());
    await Promise.all(instances.map((i) => i.stop()));
    const report = await analyseLogs(
      instances.map((i) => i.log),
      from,
      to,
      expected,
    );
    return { report, instances, cpuPct, commands: callsBetween(before, after), commandSeconds: (statsTo - statsFrom) / 1000, redisCpuPct: (redisCpu / wall) * 100, exitedEarly };
  } finally {
    await Promise.all(instances.map((i) => i.stop(5_000)));
    rmSync(dir, { recursive: true, force: true });
  }
}

function fleetRows(p: FleetPhase, r: FleetResult): string[][] {
  const { report: w } = r;
  const ids = r.instances.map((i) => i.id).join(' / ');
  const rows: string[][] = [
    ['occurrences run (run-finished ok)', `${num(w.ran)} / ${num(w.expected)} (${f(w.runPct, 2)} %)`, `>= ${p.runTargetPct} %`, verdict(w.runPct >= p.runTargetPct)],
    ['occurrences started', num(w.started), '', ''],
    ['  started, no run-finished line at the end', num(w.unfinished), '', ''],
    ['start lateness p50 / p99 / max', `${f(w.p50, 0)} / ${f(w.p99, 0)} / ${f(w.max, 0)} ms`, `p99 <= ${p.p99TargetMs} ms`, verdict(w.p99 <= p.p99TargetMs)],
    ['duplicates (started twice)', num(w.duplicates), '0', verdict(w.duplicates === 0)],
    ['skipped, log lines by reason', byCount(w.skipped), '', ''],
    ['runs not ok, by outcome', byCount(w.failed), '', ''],
    [`peak RSS ${ids}`, `${r.instances.map((i) => f(i.peakRss / MB, 0)).join(' / ')} MB`, '<= 300 MB', verdict(r.instances.every((i) => i.peakRss / MB <= 300))],
    [`CPU ${ids}`, `${r.cpuPct.map((c) => f(c, 0)).join(' / ')} % of a core`, '', ''],
  ];
  if (p.redis) {
    const total = r.commands.reduce((s, [, n]) => s + n, 0);
    const evalsha = r.commands.find(([c]) => c === 'evalsha')?.[1] ?? 0;
    const perInstance = (n: number): number => n / p.instances / r.commandSeconds;
    rows.push(
      [
        'Redis commands / instance / s (counts commands: an upper bound on round trips)',
        f(perInstance(total), 1),
        p.commandsTarget === undefined ? '' : `<= ${p.commandsTarget} round trips/s plus renewals`,
        p.commandsTarget === undefined ? '' : perInstance(total) <= p.commandsTarget ? 'ok' : 'over (as a bound)',
      ],
      ['  of which EVALSHA / instance / s', f(perInstance(evalsha), 1), '', ''],
      ['  commands per occurrence run', w.ran > 0 ? f(total / w.ran, 2) : '-', '', ''],
      ['redis-server CPU', `${f(r.redisCpuPct, 1)} % of a core`, '', ''],
    );
  }
  return rows;
}

async function fleetPhase(ctx: Context, p: FleetPhase): Promise<FleetResult> {
  console.log(`\n${p.title} ...`);
  const r = await runFleet(ctx, p);
  const commands = r.commands.length
    ? [
        `Redis commands in the ${f(r.commandSeconds, 0)} s window, all instances (INFO commandstats; a command inside a Lua script or a pipeline counts as one): ${r.commands.map(([c, n]) => `${c} ${num(n)}`).join(', ')}`,
      ]
    : [];
  const killed = r.instances.filter((i) => i.killed).map((i) => `${i.id} did not exit within 15 s of SIGTERM and was killed`);
  print(p.title, fleetRows(p, r), [...p.notes(r.report), ...commands, ...killed, ...r.exitedEarly.map((e) => `WARNING: ${e}`)]);
  return r;
}

/** How many of `jobs` occurrences ran at each instant `from, from + stepMs, …` of the window. */
function ranPerInstant(w: WindowReport, stepMs: number): { at: number; ran: number }[] {
  const out: { at: number; ran: number }[] = [];
  for (let at = w.from; at < w.to; at += stepMs) out.push({ at, ran: w.ranAt.get(at) ?? 0 });
  return out;
}

/** Every-second phases: the worst and best second of the window. */
const secondsNote =
  (jobs: number) =>
  (w: WindowReport): string[] => {
    const per = ranPerInstant(w, 1000).sort((a, b) => a.ran - b.ran);
    if (!per.length) return [];
    return [`per second: worst ${num(per[0]!.ran)} / ${num(jobs)} ran, best ${num(per[per.length - 1]!.ran)} / ${num(jobs)}; seconds in which every occurrence ran: ${per.filter((x) => x.ran === jobs).length} of ${per.length}`];
  };

/** Burst phases: how many occurrences of each burst ran. */
const burstsNote =
  (jobs: number) =>
  (w: WindowReport): string[] => [`per burst: ${ranPerInstant(w, 60_000).map((x) => `${new Date(x.at).toISOString().slice(11, 19)} ${num(x.ran)} / ${num(jobs)} ran`).join(', ')}`];

const nextSecond = (t: number): number => Math.ceil(t / 1000) * 1000;
const nextMinute = (t: number): number => Math.ceil(t / 60_000) * 60_000;

async function phase1(ctx: Context): Promise<void> {
  const r = await fleetPhase(ctx, {
    key: 'p1',
    title: `Phase 1: 10,000 jobs '* * * * * *' (cron), 2 instances on 1 Redis, no-op plugin, ${SECONDS} s counted after ${WARMUP_SECONDS} s warm-up`,
    jobs: 10_000,
    schedule: '* * * * * *',
    instances: 2,
    redis: true,
    window: (warm) => ({ from: nextSecond(warm), to: nextSecond(warm) + SECONDS * 1000, expected: 10_000 * SECONDS }),
    p99TargetMs: 50,
    runTargetPct: 99.9,
    commandsTarget: 20,
    notes: secondsNote(10_000),
  });
  const w = r.report;
  ctx.rows.set('iamwatch 10,000 jobs, 2 instances + Redis (per instance)', { runPct: w.runPct, p50: w.p50, p99: w.p99, max: w.max, cpuPct: Math.max(...r.cpuPct), rssMb: Math.max(...r.instances.map((i) => i.peakRss)) / MB });
}

async function phase2(ctx: Context): Promise<void> {
  await fleetPhase(ctx, {
    key: 'p2',
    title: `Phase 2: 10,000 jobs '0 * * * * *' (one burst a minute), 2 instances on 1 Redis, 2 bursts counted after ${WARMUP_SECONDS} s warm-up`,
    jobs: 10_000,
    schedule: '0 * * * * *',
    instances: 2,
    redis: true,
    // The first minute boundary at least the warm-up after both started, and the one after it.
    window: (warm) => ({ from: nextMinute(warm), to: nextMinute(warm) + 61_000, expected: 10_000 * 2 }),
    p99TargetMs: 250,
    runTargetPct: 100,
    notes: burstsNote(10_000),
  });
}

async function phase3(ctx: Context): Promise<void> {
  const r = await fleetPhase(ctx, {
    key: 'p3',
    title: `Phase 3: 1,000 jobs '* * * * * *' (cron), 1 instance, embedded store (no REDIS_URL), ${SECONDS} s counted after ${WARMUP_SECONDS} s warm-up`,
    jobs: 1_000,
    schedule: '* * * * * *',
    instances: 1,
    redis: false,
    window: (warm) => ({ from: nextSecond(warm), to: nextSecond(warm) + SECONDS * 1000, expected: 1_000 * SECONDS }),
    p99TargetMs: 10,
    runTargetPct: 99.9,
    notes: secondsNote(1_000),
  });
  const w = r.report;
  ctx.rows.set('iamwatch 1,000 jobs, 1 instance, embedded store', { runPct: w.runPct, p50: w.p50, p99: w.p99, max: w.max, cpuPct: r.cpuPct[0]!, rssMb: r.instances[0]!.peakRss / MB });
}

async function phase4(ctx: Context): Promise<void> {
  const title = `Phase 4: croner, N Cron objects '* * * * * *' in one process, ${SECONDS} s counted after ${WARMUP_SECONDS} s warm-up (lateness = ms past the whole second), beside iamwatch from phases 1 and 3`;
  console.log(`\n${title} ...`);
  const self = fileURLToPath(import.meta.url);
  const croner = new Map<number, Record<string, number>>();
  for (const count of [10_000, 1_000]) {
    const s = await runPhase(self, ['croner', String(count)], { signal: ctx.signal, timeoutMs: (SECONDS + WARMUP_SECONDS + 60) * 1000 });
    croner.set(count, s);
    ctx.rows.set(`croner ${num(count)} jobs`, { runPct: (s.runs! / (count * SECONDS)) * 100, p50: s.p50!, p99: s.p99!, max: s.max!, cpuPct: s.cpuPct!, rssMb: s.rssMb! });
  }
  console.log(`\n${title}`);
  const rows = [...ctx.rows].map(([label, s]) => [label, f(s.runPct, 2), f(s.p50, 0), f(s.p99, 0), f(s.max, 0), f(s.cpuPct, 0), f(s.rssMb, 0)]);
  console.log(table(['scheduler', 'run %', 'p50 ms', 'p99 ms', 'max ms', 'CPU %', 'peak RSS MB'], rows));
  console.log(load());
  const mine = ctx.rows.get('iamwatch 1,000 jobs, 1 instance, embedded store');
  const theirs = croner.get(1_000)!;
  if (mine) {
    const ok = mine.p99 <= 10 && mine.p99 < theirs.p99!;
    console.log(`iamwatch 1,000 jobs p99 ${f(mine.p99, 0)} ms vs croner 1,000 jobs p99 ${f(theirs.p99, 0)} ms  [target: p99 <= 10 ms and below croner's]  ${verdict(ok)}`);
  } else console.log('iamwatch 1,000 jobs: no figures (phase 3 failed)');
}

async function phase5(ctx: Context): Promise<void> {
  const title = `Phase 5: 100,000 jobs '0 0 1 1 *' (yearly: nothing fires), idle, 1 instance, embedded store`;
  console.log(`\n${title} ...`);
  const dir = path.join(ctx.base, 'p5');
  const file = writeJobsDir(dir, {}, noopJobs(100_000, '0 0 1 1 *'));
  const instance = new Instance('p5-a', file);
  try {
    const started = await instance.waitStarted(STARTED_TIMEOUT_MS, ctx.signal);
    const startupS = (started - instance.spawnedAt) / 1000;
    await delay(IDLE_SECONDS * 1000, undefined, { signal: ctx.signal });
    const rss = instance.sample() / MB;
    if (!instance.running) throw new PhaseFailed(instance.describeExit());
    print(title, [
      ['spawn to "started" log line', `${f(startupS, 2)} s`, '<= 5 s', verdict(startupS <= 5)],
      [`RSS after ${IDLE_SECONDS} s idle`, `${f(rss, 0)} MB`, '<= 400 MB', verdict(rss <= 400)],
      ['peak RSS', `${f(instance.peakRss / MB, 0)} MB`, '', ''],
    ]);
  } finally {
    await instance.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function build(): void {
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status === 0) return;
  const why = `${r.stdout}${r.stderr}`.trim().split('\n').slice(-10).join('\n');
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error(`npm run build failed and there is no dist/ to run:\n${why}`);
  console.log(`WARNING: npm run build reported errors (work in progress elsewhere?); measuring dist/ as it is:\n${why}`);
}

async function machineFacts(client: TestRedisClient): Promise<string> {
  const cpus = os.cpus();
  const version = /^redis_version:(\S+)/m.exec(await client.info('server'))?.[1] ?? '?';
  return `machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? '?'}), ${f(os.totalmem() / 2 ** 30, 1)} GB RAM, ${load()}; node ${process.version}; Redis ${version} (private server, no persistence)`;
}

export async function benchScale(): Promise<void> {
  const controller = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupted = sig;
    killAll();
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let redis: PrivateRedis | undefined;
  let client: TestRedisClient | undefined;
  const base = mkdtempSync(path.join(os.tmpdir(), 'iamwatch-scale-'));
  try {
    build();
    redis = await startRedisServer();
    client = await openClient(redis.url);
    console.log(`\nScale: real \`iamwatch run\` processes, JSON logs to files; SCALE_SECONDS=${SECONDS}`);
    console.log(await machineFacts(client));
    const ctx: Context = { base, redis, client, signal: controller.signal, rows: new Map() };
    for (const phase of [phase1, phase2, phase3, phase4, phase5]) {
      try {
        await phase(ctx);
      } catch (e) {
        if (controller.signal.aborted) throw e;
        killAll();
        const message = e instanceof Error ? e.message : String(e);
        console.log(`FAILED: ${message}`);
      }
    }
  } catch (e) {
    if (!interrupted) throw e;
    console.log(`\nScale: ${interrupted}: stopped every process this benchmark started`);
  } finally {
    killAll();
    await client?.close().catch(() => {});
    await redis?.stop().catch(() => {});
    rmSync(base, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // Die of the signal as if no handler had been installed (the children are gone by now).
  if (interrupted) process.kill(process.pid, interrupted);
}

const main = process.argv[1] === fileURLToPath(import.meta.url);
if (main && process.argv[2] === 'croner') {
  console.log(JSON.stringify(await latenessCroner(Number(process.argv[3]), SECONDS, WARMUP_SECONDS)));
} else if (main) {
  await benchScale();
}

