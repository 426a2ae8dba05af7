/**
 * The scheduler: plans every job's occurrences on one timeline, claims each occurrence in the
 * coordination store, and executes the ones it wins. Modes:
 * - cron / rate: occurrence id = nominal time; fire at each one whether or not a run is in
 *   progress (unless overlap=skip); misfire=once catches up the latest missed occurrence at start;
 * - interval: the store decides when the next generation may start (its previous run's end plus
 *   the interval, on the store's clock), so the schedule is the fleet's, not this process's.
 */
import type { Knex } from 'knex';
import type { CoordinationStore, Holder } from '../coordination/store.js';
import { errorMessage } from '../errors.js';
import type { JobSpec } from '../jobsfile/job.js';
import type { Logger } from '../observe/log-types.js';
import { cronSchedule, previousOccurrence, rateSchedule, type Schedule } from '../schedule/schedule.js';
import type { Watcher } from '../watchers/define-watcher.js';
import type { WatcherRegistry } from '../watchers/registry.js';
import type { Clock } from './clock.js';
import type { EventSink } from './events.js';
import { executeRun, type RunReport } from './execute.js';
import { SkewMonitor } from './skew.js';
import { Timeline } from './timeline.js';

export interface SchedulerDeps {
  jobs: readonly JobSpec[];
  registry: WatcherRegistry;
  store: CoordinationStore;
  clock: Clock;
  log: Logger;
  events: EventSink;
  instance: string;
  maxClockSkewMs: number;
  db?: Knex;
}

/** What the dashboard and health check read. */
export interface JobState {
  job: JobSpec;
  /** Next planned occurrence (ms), null for none. */
  next: number | null;
  runningHere: number;
}

const REDIS_RETRY_MS = [250, 500, 1_000, 2_000, 5_000];

export class Scheduler {
  readonly #deps: SchedulerDeps;
  readonly #timeline: Timeline;
  readonly #skew: SkewMonitor;
  readonly #running = new Set<Promise<RunReport>>();
  readonly #states = new Map<string, JobState>();
  readonly #shutdown = new AbortController();
  #stopping = false;
  /** Last time the timeline woke or was armed: the health check's liveness signal. */
  lastTick = 0;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
    this.#timeline = new Timeline(deps.clock);
    this.#skew = new SkewMonitor(deps.store, deps.clock, deps.maxClockSkewMs, deps.log);
    for (const job of deps.jobs) this.#states.set(job.name, { job, next: null, runningHere: 0 });
  }

  get skewMs(): number | null {
    return this.#skew.skewMs;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  get runningCount(): number {
    return this.#running.size;
  }

  states(): JobState[] {
    return [...this.#states.values()];
  }

  async start(): Promise<void> {
    const { clock } = this.#deps;
    await this.#skew.measure();
    this.#skew.start();
    this.lastTick = clock.now();
    this.#heartbeat();
    const now = clock.now();
    for (const job of this.#deps.jobs) {
      if (job.mode === 'interval') {
        this.#planInterval(job, now);
        continue;
      }
      const schedule = job.schedule.kind === 'cron' ? cronSchedule(job.schedule, job.tz) : rateSchedule(job.schedule);
      this.#plan(job, schedule, schedule.next(now));
      if (job.misfire === 'once') void this.#catchUp(job, schedule, now);
    }
  }

  /** Stops claiming; running jobs go on (their locks renewed) until drain() or abort(). */
  stopClaiming(): void {
    this.#stopping = true;
    this.#timeline.stop();
    this.#skew.stop();
  }

  /** Waits for running jobs, up to `timeoutMs`; true when all finished. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const finished = (async () => {
      while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
      return true as const;
    })();
    const result = await Promise.race([finished, timedOut]);
    clearTimeout(timer);
    return result;
  }

  /** Aborts every running job (they release their locks as they end). */
  abort(): void {
    this.#shutdown.abort();
  }

  #heartbeat(): void {
    // The timeline re-arms at least every 30 s; a recurring no-op entry proves the loop is alive.
    const beat = (): void => {
      this.lastTick = this.#deps.clock.now();
      this.#timeline.at(this.lastTick + 5_000, beat);
    };
    beat();
  }

  #plan(job: JobSpec, schedule: Schedule, at: number | null): void {
    const state = this.#states.get(job.name)!;
    state.next = at;
    if (at === null) return;
    this.#timeline.at(at, () => {
      this.lastTick = this.#deps.clock.now();
      this.#plan(job, schedule, schedule.next(at));
      void this.#occurrence(job, at);
    });
  }

  /** misfire=once: run the latest occurrence missed while no instance was up, if the fleet never claimed it. */
  async #catchUp(job: JobSpec, schedule: Schedule, now: number): Promise<void> {
    const latest = previousOccurrence(schedule, now);
    if (latest === null) return;
    try {
      const newest = await this.#deps.store.newestClaim(job.name);
      // No claim ever: nothing was missed, the job is new. A claim at or after `latest`: nothing was missed.
      if (newest === null || newest >= latest) return;
    } catch (err) {
      this.#deps.log.warn({ event: 'misfire-check-failed', job: job.name, err: errorMessage(err) }, 'could not check for a missed occurrence');
      return;
    }
    this.#deps.log.info({ event: 'misfire', job: job.name, occurrence: latest }, 'running the latest missed occurrence once (misfire=once)');
    await this.#occurrence(job, latest);
  }

  #holder(occurrence: number): Holder {
    return { instance: this.#deps.instance, occurrence, startedAt: this.#deps.clock.now() };
  }

  async #occurrence(job: JobSpec, at: number): Promise<void> {
    const { store, events, instance } = this.#deps;
    const base = { job: job.name, mode: job.mode, occurrence: at, nominal: at, instance };
    if (this.#stopping) return;
    if (!this.#skew.ok) {
      events.emit({ event: 'occurrence-skipped', ...base, reason: 'clock-skew', detail: `skew ${this.#skew.skewMs} ms` });
      return;
    }
    let claim;
    try {
      claim = await store.claim({ job: job.name, occurrence: at, holder: this.#holder(at), ttlMs: job.lockTtlMs, skipIfRunning: job.overlap === 'skip' });
    } catch (err) {
      events.emit({ event: 'occurrence-skipped', ...base, reason: 'redis-unavailable', detail: errorMessage(err) });
      return;
    }
    switch (claim.kind) {
      case 'taken':
        return events.emit({ event: 'occurrence-taken', ...base });
      case 'late':
        return events.emit({ event: 'occurrence-skipped', ...base, reason: 'late', detail: 'older than the claim window behind the newest claim' });
      case 'running':
        return events.emit({ event: 'occurrence-skipped', ...base, reason: 'overlap', holder: claim.holder?.instance });
      case 'won':
        await this.#execute(job, at, at, { token: claim.token, fence: claim.fence }, false);
    }
  }

  #planInterval(job: JobSpec, at: number, attempt = 0): void {
    const state = this.#states.get(job.name)!;
    state.next = at;
    this.#timeline.at(at, () => void this.#intervalAttempt(job, attempt));
  }

  async #intervalAttempt(job: JobSpec, failures: number): Promise<void> {
    const { store, events, instance, clock } = this.#deps;
    if (this.#stopping) return;
    const everyMs = job.schedule.kind === 'every' ? job.schedule.everyMs : 0;
    const poll = Math.min(Math.max(everyMs / 2, 250), 5_000);
    const now = clock.now();
    if (!this.#skew.ok) {
      events.emit({ event: 'occurrence-skipped', job: job.name, mode: job.mode, occurrence: 0, nominal: now, instance, reason: 'clock-skew', detail: `skew ${this.#skew.skewMs} ms` });
      return this.#planInterval(job, now + poll);
    }
    let res;
    try {
      res = await store.claimInterval({ job: job.name, holder: this.#holder(0), ttlMs: job.lockTtlMs, intervalMs: everyMs });
    } catch (err) {
      events.emit({ event: 'occurrence-skipped', job: job.name, mode: job.mode, occurrence: 0, nominal: now, instance, reason: 'redis-unavailable', detail: errorMessage(err) });
      return this.#planInterval(job, clock.now() + REDIS_RETRY_MS[Math.min(failures, REDIS_RETRY_MS.length - 1)]!, failures + 1);
    }
    switch (res.kind) {
      case 'wait':
        return this.#planInterval(job, clock.now() + res.ms);
      case 'running':
        return this.#planInterval(job, clock.now() + Math.max(50, Math.min(res.ms, poll)));
      case 'won':
        await this.#execute(job, res.generation, clock.now(), { token: res.token, fence: res.fence }, true);
        if (!this.#stopping) this.#planInterval(job, clock.now() + everyMs);
    }
  }

  async #execute(job: JobSpec, occurrence: number, nominal: number, lease: { token: string; fence: number }, interval: boolean): Promise<void> {
    const watcher = this.#deps.registry.get(job.watcher) as Watcher;
    const state = this.#states.get(job.name)!;
    state.runningHere++;
    const run = executeRun({
      job,
      watcher,
      store: this.#deps.store,
      lease,
      occurrence,
      nominal,
      interval,
      manual: false,
      instance: this.#deps.instance,
      clock: this.#deps.clock,
      log: this.#deps.log,
      events: this.#deps.events,
      shutdown: this.#shutdown.signal,
      db: this.#deps.db,
    });
    this.#running.add(run);
    try {
      await run;
    } finally {
      this.#running.delete(run);
      state.runningHere--;
    }
  }
}
