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
import { executeRun, type Lease } from './execute.js';
import { Renewer } from './renewer.js';
import { RunControl } from './run-control.js';
import { RunAborted } from './run-wrappers.js';
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
/**
 * cron and rate occurrences are claimed up to this long before their nominal time, so the claim's
 * round trip is done when the run is due. A claim is final either way; overlap=skip jobs claim on
 * time, since whether the job is still running must be judged at the occurrence itself.
 */
export const CLAIM_AHEAD_MS = 250;

export class Scheduler {
  readonly #deps: SchedulerDeps;
  readonly #timeline: Timeline;
  readonly #skew: SkewMonitor;
  readonly #running = new Set<Promise<unknown>>();
  readonly #controls = new Set<RunControl>();
  readonly #states = new Map<string, JobState>();
  readonly #renewer: Renewer;
  /** Jobs whose next occurrence is planned after the due runs have started. */
  readonly #toPlan: Array<() => void> = [];
  #stopping = false;
  /** Last time the timeline woke or was armed: the health check's liveness signal. */
  lastTick = 0;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
    this.#timeline = new Timeline(deps.clock);
    this.#skew = new SkewMonitor(deps.store, deps.clock, deps.maxClockSkewMs, deps.log);
    this.#renewer = new Renewer(deps.clock);
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
    for (const c of this.#controls) c.abort(new RunAborted('shutdown', 'aborted by shutdown'));
  }

  /** Keeps `work` in the set drain() waits for. */
  #track<T>(work: Promise<T>): Promise<T> {
    this.#running.add(work);
    void work.finally(() => this.#running.delete(work));
    return work;
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
    // At most a quarter of the lock's lifetime ahead, so the lock is renewed well before it lapses.
    const claimAt = job.overlap === 'skip' ? at : at - Math.min(CLAIM_AHEAD_MS, job.lockTtlMs / 4);
    this.#timeline.at(claimAt, () => {
      this.lastTick = this.#deps.clock.now();
      void this.#occurrence(job, at);
      // Planning the next occurrence waits until the due runs have started.
      if (this.#toPlan.push(() => this.#plan(job, schedule, schedule.next(at))) === 1) setImmediate(() => this.#planPending());
    });
  }

  #planPending(): void {
    for (let plan = this.#toPlan.shift(); plan; plan = this.#toPlan.shift()) plan();
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

  /** Claims need a measured skew within the bound; otherwise the occurrence is skipped and logged. */
  async #skewOk(base: { job: string; mode: JobSpec['mode']; occurrence: number; nominal: number; instance: string }): Promise<boolean> {
    await this.#skew.ensureMeasured();
    if (this.#skew.ok) return true;
    const measured = this.#skew.skewMs !== null;
    this.#deps.events.emit({
      event: 'occurrence-skipped',
      ...base,
      reason: measured ? 'clock-skew' : 'redis-unavailable',
      detail: measured ? `skew ${this.#skew.skewMs} ms` : 'clock skew could not be measured',
    });
    return false;
  }

  #holder(occurrence: number): Holder {
    return { instance: this.#deps.instance, occurrence, startedAt: this.#deps.clock.now() };
  }

  async #occurrence(job: JobSpec, at: number): Promise<void> {
    const { store, events, instance } = this.#deps;
    const base = { job: job.name, mode: job.mode, occurrence: at, nominal: at, instance };
    if (this.#stopping) return;
    if (!(await this.#skewOk(base))) return;
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
      case 'won': {
        const lease = { token: claim.token, fence: claim.fence };
        if (this.#deps.clock.now() >= at) return this.#execute(job, at, at, lease, false);
        // Claimed ahead of time: start on time. A claimed occurrence runs even if shutdown begins meanwhile.
        await this.#track(new Promise<void>((resolve) => this.#timeline.at(at, () => resolve(this.#execute(job, at, at, lease, false)), true)));
      }
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
    if (!(await this.#skewOk({ job: job.name, mode: job.mode, occurrence: 0, nominal: now, instance }))) return this.#planInterval(job, clock.now() + poll);
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
        await this.#execute(job, res.generation, res.due, { token: res.token, fence: res.fence }, true);
        if (!this.#stopping) this.#planInterval(job, clock.now() + everyMs);
    }
  }

  async #execute(job: JobSpec, occurrence: number, nominal: number, lease: Lease, interval: boolean): Promise<void> {
    const watcher = this.#deps.registry.get(job.watcher) as Watcher;
    const state = this.#states.get(job.name)!;
    state.runningHere++;
    const control = new RunControl();
    this.#controls.add(control);
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
      control,
      renewer: this.#renewer,
      db: this.#deps.db,
    });
    try {
      await this.#track(run);
    } finally {
      this.#controls.delete(control);
      state.runningHere--;
    }
  }
}
