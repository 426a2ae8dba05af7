/**
 * Feeds the dashboard: builds a DashboardModel synchronously from the scheduler's public state,
 * the run tracker and the log tail, plus values refreshed in the background every two seconds
 * (Redis and database probes, the fleet's heartbeats, the jobs' pauses in one batched read) so
 * rendering never waits on I/O.
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
import type { DashboardModel, JobRowState, ShutdownState } from './model.js';

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
}

export class DashboardFeed {
  shutdown: ShutdownState | null = null;
  #redisUp: boolean | null = null;
  #dbUp: boolean | null = null;
  #instances: Heartbeat[] = [];
  #pauses = new Map<string, Pause>();
  #timer: NodeJS.Timeout | undefined;
  #refreshing = false;

  constructor(private readonly d: FeedDeps) {}

  async refresh(): Promise<void> {
    if (this.#refreshing) return;
    this.#refreshing = true;
    try {
      const [redis, db, instances, pauses] = await Promise.all([
        probeStore(this.d.store),
        this.d.db ? probeDatabase(this.d.db) : Promise.resolve(null),
        this.d.fleet.instances().catch(() => null),
        this.d.store.pauses(this.d.jobs.map((j) => j.name)).catch(() => null),
      ]);
      this.#redisUp = redis ? redis.ok : null;
      this.#dbUp = db ? db.ok : null;
      if (instances) this.#instances = instances;
      if (pauses) this.#pauses = pauses;
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
      return {
        name: s.job.name,
        mode: s.job.mode,
        schedule: s.job.schedule.source,
        tz: s.job.tz,
        next: s.next,
        state,
        last: tally.last,
        ok: tally.ok,
        failed: tally.failed,
      };
    });
    const self = this.#instances.some((i) => i.instance === this.d.instance);
    return {
      now,
      instance: this.d.instance,
      file: this.d.file,
      redis: { label: this.d.redisLabel ?? 'not set: embedded store, this machine only', up: this.#redisUp },
      database: this.d.db ? { label: this.d.dbLabel ?? '', up: this.#dbUp } : null,
      skewMs: scheduler.skewMs,
      instances: [
        ...(self ? [] : [{ instance: this.d.instance, lastBeat: now, skewMs: scheduler.skewMs, self: true, running: scheduler.runningCount }]),
        ...this.#instances.map((i) => ({ instance: i.instance, lastBeat: i.lastBeat, skewMs: i.skewMs, self: i.instance === this.d.instance, running: i.running.length })),
      ],
      jobs,
      shutdown: this.shutdown ? { ...this.shutdown, running: scheduler.runningCount } : null,
      logs: this.d.tail.lines(200),
    };
  }
}
