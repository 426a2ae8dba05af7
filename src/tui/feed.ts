/**
 * Feeds the dashboard: builds a DashboardModel synchronously from the scheduler's public state,
 * the run tracker and the log tail, plus values refreshed in the background every two seconds
 * (Redis and database probes, the fleet's heartbeats, the jobs' pauses in one batched read, and
 * the newest run records of each job, which give the fleet's ok/failed counts and last runs) so
 * rendering never waits on I/O. Until the history has been read once, the counts are this
 * instance's, and the model says so.
 */
import type { Knex } from 'knex';
import type { CoordinationStore, Pause } from '../coordination/store.js';
import type { JobSpec } from '../jobsfile/job.js';
import type { FleetStore } from '../coordination/fleet-store.js';
import type { SchedulerView } from '../observe/heartbeat.js';
import type { LogTail } from '../observe/log-tail.js';
import { probeDatabase, probeStore } from '../observe/probes.js';
import type { Heartbeat } from '../coordination/records.js';
import type { RunTracker } from '../observe/run-tracker.js';
import type { DashboardModel, JobRow, JobRowState, ShutdownState } from './model.js';
import { FleetTally } from './fleet-tally.js';

/** Records read per job at each refresh (more when they may not reach back to the previous read). */
const HISTORY_WINDOW = 20;
/** Records read per job the first time (the last run may be behind skipped ones) and after a gap. */
const HISTORY_DEEP = 100;
/** Jobs whose history one refresh reads (in turn through all of them), so the store's load stays flat with thousands of jobs. */
const HISTORY_JOBS_PER_REFRESH = 200;

export interface FeedDeps {
  instance: string;
  file: string;
  jobs: readonly JobSpec[];
  scheduler: SchedulerView & { states(): Array<{ job: JobSpec; next: number | null; runningHere: number }> };
  tracker: RunTracker;
  tail: LogTail;
  store: CoordinationStore;
  fleet: FleetStore;
  redisLabel: string | null;
  db?: Knex;
  dbLabel?: string;
  now?: () => number;
  /** Runs are counted from this time (ms; default: when this process started, or `now()` with a clock of its own). */
  since?: number;
}

export class DashboardFeed {
  shutdown: ShutdownState | null = null;
  #redisUp: boolean | null = null;
  #dbUp: boolean | null = null;
  #instances: Heartbeat[] = [];
  #pauses = new Map<string, Pause>();
  #timer: NodeJS.Timeout | undefined;
  #refreshing = false;
  readonly #since: number;
  readonly #fleetTally: FleetTally;
  /** The history has been read for every job at least once. */
  #fleetCounts = false;
  /** Where the next refresh's history reads start in the job list, and the jobs read so far. */
  #cursor = 0;
  readonly #read = new Set<string>();

  constructor(private readonly d: FeedDeps) {
    this.#since = d.since ?? (d.now ? d.now() : Date.now() - Math.round(process.uptime() * 1000));
    this.#fleetTally = new FleetTally(this.#since);
  }

  /** The jobs scheduled now (a reload may have changed them since the start). */
  #jobNames(): string[] {
    return this.d.scheduler.states().map((s) => s.job.name);
  }

  /** The jobs whose history this refresh reads: up to HISTORY_JOBS_PER_REFRESH, taking turns. */
  #historyBatch(): string[] {
    const names = this.#jobNames();
    if (names.length <= HISTORY_JOBS_PER_REFRESH) return names;
    const start = this.#cursor % names.length;
    this.#cursor = start + HISTORY_JOBS_PER_REFRESH;
    return [...names.slice(start, start + HISTORY_JOBS_PER_REFRESH), ...names.slice(0, Math.max(0, start + HISTORY_JOBS_PER_REFRESH - names.length))];
  }

  /** Reads the newest records of a batch of jobs into the fleet tally; true once every job was read without a failure. */
  async #readHistory(): Promise<boolean> {
    const read = async (job: string): Promise<boolean> => {
      const first = !this.#read.has(job);
      const limit = first ? HISTORY_DEEP : HISTORY_WINDOW;
      const records = await this.d.fleet.history(job, limit);
      if (this.#fleetTally.add(job, records, limit) || first) return true;
      this.#fleetTally.add(job, await this.d.fleet.history(job, HISTORY_DEEP), HISTORY_DEEP);
      return true;
    };
    const batch = this.#historyBatch();
    const results = await Promise.all(
      batch.map(async (name) => {
        const ok = await read(name).catch(() => false);
        if (ok) this.#read.add(name);
        return ok;
      }),
    );
    return results.every(Boolean) && this.#jobNames().every((name) => this.#read.has(name));
  }

  async refresh(): Promise<void> {
    if (this.#refreshing) return;
    this.#refreshing = true;
    try {
      const [redis, db, instances, pauses, history] = await Promise.all([
        probeStore(this.d.store),
        this.d.db ? probeDatabase(this.d.db) : Promise.resolve(null),
        this.d.fleet.instances().catch(() => null),
        this.d.store.pauses(this.#jobNames()).catch(() => null),
        this.#readHistory(),
      ]);
      this.#redisUp = redis ? redis.ok : null;
      this.#dbUp = db ? db.ok : null;
      if (instances) this.#instances = instances;
      if (pauses) this.#pauses = pauses;
      if (history) this.#fleetCounts = true;
    } finally {
      this.#refreshing = false;
    }
  }

  start(everyMs = 2_000): void {
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), everyMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  model(): DashboardModel {
    const now = (this.d.now ?? Date.now)();
    const { scheduler, tracker } = this.d;
    const others = this.#instances.filter((i) => i.instance !== this.d.instance);
    const jobs = scheduler.states().map((s) => {
      const tally = tracker.tally(s.job.name);
      const here = tracker.running().filter((r) => r.job === s.job.name);
      const paused = this.#pauses.get(s.job.name);
      let state: JobRowState = { kind: 'idle' };
      const elsewhere = others.flatMap((i) => i.running.filter((r) => r.job === s.job.name).map((r) => ({ instance: i.instance, since: r.startedAt })));
      if (s.runningHere > 0 || here.length > 0) state = { kind: 'running-here', since: Math.min(...here.map((r) => r.startedAt), now) };
      else if (elsewhere[0]) state = { kind: 'running-elsewhere', ...elsewhere[0] };
      else if (paused) state = { kind: 'paused', by: paused.by, until: paused.until, reason: paused.reason };
      else if (tally.skip) state = { kind: 'skipped', reason: tally.skip.reason, holder: tally.skip.holder };
      // The history lags this instance's own runs by a refresh: count them as they end.
      if (tally.last) this.#fleetTally.note(tally.last);
      const fleet = this.#fleetCounts ? this.#fleetTally.get(s.job.name) : undefined;
      // The newer of the fleet's last run and this instance's (not in the history yet, maybe).
      const last = fleet?.last && (!tally.last || fleet.last.at >= tally.last.at) ? fleet.last : tally.last;
      const row: JobRow = {
        name: s.job.name,
        mode: s.job.mode,
        schedule: s.job.schedule.source,
        tz: s.job.tz,
        next: s.next,
        state,
        last,
        ok: this.#fleetCounts ? (fleet?.ok ?? 0) : tally.ok,
        failed: this.#fleetCounts ? (fleet?.failed ?? 0) : tally.failed,
      };
      return row;
    });
    const self = this.#instances.some((i) => i.instance === this.d.instance);
    return {
      now,
      instance: this.d.instance,
      file: this.d.file,
      redis: { label: this.d.redisLabel ?? 'embedded (REDIS_URL not set), this machine only', up: this.#redisUp },
      database: this.d.db ? { label: this.d.dbLabel ?? '', up: this.#dbUp } : null,
      skewMs: scheduler.skewMs,
      instances: [
        ...(self ? [] : [{ instance: this.d.instance, lastBeat: now, skewMs: scheduler.skewMs, self: true, running: scheduler.runningCount }]),
        ...this.#instances.map((i) => {
          const me = i.instance === this.d.instance;
          return { instance: i.instance, lastBeat: i.lastBeat, skewMs: me ? scheduler.skewMs : i.skewMs, self: me, running: me ? scheduler.runningCount : i.running.length };
        }),
      ],
      jobs,
      counts: { scope: this.#fleetCounts ? 'fleet' : 'this instance', since: this.#since },
      paused: this.#pauses.size,
      shutdown: this.shutdown ? { ...this.shutdown, running: scheduler.runningCount } : null,
      logs: this.d.tail.lines(200),
    };
  }
}
