/**
 * The scheduler: plans every job's occurrences on one timeline, claims each occurrence in the
 * coordination store, and executes the ones it wins. Modes:
 * - cron / rate: occurrence id = nominal time; fire at each one whether or not a run is in
 *   progress (unless overlap=skip); misfire=once catches up the latest missed occurrence at start;
 * - interval: the store decides when the next generation may start (its previous run's end plus
 *   the interval, on the store's clock), so the schedule is the fleet's, not this process's.
 * A cron or rate run starts at most MAX_START_DELAY_MS after its nominal time: the claim's
 * deadline ends there, and an occurrence whose claim got no answer by then (redis-slow) or whose
 * claim time this instance woke too late for (overloaded) is skipped and logged, never started
 * late, unless misfire=once.
 */
import type { Knex } from 'knex';
import { storeFailureOf } from '../coordination/store-failure.js';
import type { CoordinationStore, Holder } from '../coordination/store.js';
import { errorMessage } from '../base/errors.js';
import type { JobSpec } from '../jobsfile/job.js';
import type { Logger } from '../base/logger.js';
import { cronSchedule, previousOccurrence, rateSchedule, type Schedule } from '../schedule/schedule.js';
import type { Watcher } from '../watchers/define-watcher.js';
import type { WatcherRegistry } from '../watchers/registry.js';
import type { Clock } from './clock.js';
import type { EventSink, SkipReason } from './events.js';
import { executeRun, type Lease } from './execute.js';
import { Pressure, type PressureSnapshot } from './pressure.js';
import { Renewer } from './renewer.js';
import { RunControl } from './run-control.js';
import { RunAborted } from './run-wrappers.js';
import { ServerWatch } from './server-watch.js';
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
/**
 * The latest a cron or rate run starts after its nominal time (misfire=once jobs excepted): its
 * claim must be answered, and the loop must wake to start it, by then; otherwise it is skipped.
 */
export const MAX_START_DELAY_MS = 500;
/** Less time than this left for a claim is too little for an answer to come back. */
const MIN_CLAIM_MS = 20;
/** A deadline's timer firing this much late means the event loop, not Redis, was slow. */
const LOOP_LAG_MS = 100;

type Base = { job: string; mode: JobSpec['mode']; occurrence: number; nominal: number; instance: string };

export class Scheduler {
  readonly #deps: SchedulerDeps;
  readonly #timeline: Timeline;
  readonly #skew: SkewMonitor;
  readonly #running = new Set<Promise<unknown>>();
  readonly #controls = new Set<RunControl>();
  readonly #states = new Map<string, JobState>();
  readonly #renewer: Renewer;
  readonly #server: ServerWatch;
  readonly #pressure = new Pressure();
  /** Jobs whose next occurrence is planned after the due runs have started. */
  readonly #toPlan: Array<() => void> = [];
  #stopping = false;
  /** Last time the timeline woke or was armed: the health check's liveness signal. */
  lastTick = 0;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
    this.#timeline = new Timeline(deps.clock);
    this.#server = new ServerWatch(deps.store, deps.log);
    this.#skew = new SkewMonitor(deps.store, deps.clock, deps.maxClockSkewMs, deps.log, () => this.#server.check());
    this.#renewer = new Renewer(deps.clock, (err) => {
      const f = storeFailureOf(err);
      if (f?.store === 'slow') this.#pressure.redisSlow(`a lock renewal got no answer within ${f.timeoutMs} ms`);
    });
    for (const job of deps.jobs) this.#states.set(job.name, { job, next: null, runningHere: 0 });
  }

  get skewMs(): number | null {
    return this.#skew.skewMs;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** Recent slowness: Redis not answering in time, the loop waking too late. */
  get pressure(): PressureSnapshot {
    return this.#pressure.snapshot();
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
    void this.#server.start();
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

  /**
   * Aborts every running job; each ends within its watcher's abort grace, or at once with `now`
   * (a second signal, a crash), and releases its lock as it ends.
   */
  abort(now = false): void {
    const reason = new RunAborted('shutdown', 'aborted by shutdown');
    for (const c of this.#controls) {
      if (now) c.abandon(reason);
      else c.abort(reason);
    }
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
      void this.#occurrence(job, at, claimAt);
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
    await this.#occurrence(job, latest, null);
  }

  /** Claims need a measured skew within the bound; otherwise the occurrence is skipped and logged. */
  async #skewOk(base: Base): Promise<boolean> {
    await this.#skew.ensureMeasured();
    if (this.#skew.ok) return true;
    const measured = this.#skew.skewMs !== null;
    const slow = !measured && this.#skew.lastFailure === 'slow';
    if (slow) this.#pressure.redisSlow('the clock-skew measurement got no answer in time');
    this.#deps.events.emit({
      event: 'occurrence-skipped',
      ...base,
      reason: measured ? 'clock-skew' : slow ? 'redis-slow' : 'redis-unavailable',
      detail: measured ? `skew ${this.#skew.skewMs} ms` : slow ? 'clock skew could not be measured: Redis did not answer in time' : 'clock skew could not be measured',
    });
    return false;
  }

  /** Skips an occurrence whose claim failed: Redis down, Redis slow, or this loop too busy to hear the answer. */
  #claimFailed(base: Base, err: unknown): void {
    const f = storeFailureOf(err);
    let reason: SkipReason = 'redis-unavailable';
    if (f?.store === 'slow') {
      reason = (f.lagMs ?? 0) >= LOOP_LAG_MS ? 'overloaded' : 'redis-slow';
      if (reason === 'overloaded') this.#pressure.overload(f.lagMs ?? 0);
      else this.#pressure.redisSlow(`a claim got no answer within ${f.timeoutMs} ms`);
    }
    this.#deps.events.emit({ event: 'occurrence-skipped', ...base, reason, detail: errorMessage(err), ...(reason === 'overloaded' ? { lateMs: f?.lagMs } : {}) });
  }

  /** Skips an occurrence this instance got to too late; a lock it already won is released. */
  #tooLate(job: JobSpec, base: Base, lateMs: number, what: string, token?: string): void {
    this.#pressure.overload(lateMs);
    if (token) this.#deps.store.release(job.name, token, false).catch(() => {});
    this.#deps.events.emit({ event: 'occurrence-skipped', ...base, reason: 'overloaded', lateMs, detail: `${what} ${lateMs} ms late: its event loop was busy` });
  }

  #holder(occurrence: number): Holder {
    return { instance: this.#deps.instance, occurrence, startedAt: this.#deps.clock.now() };
  }

  /**
   * Claims and runs one cron or rate occurrence. `claimAt`: when the timeline was to wake for it;
   * null for the misfire=once catch-up, which runs late by design. Otherwise the run must start by
   * `at + MAX_START_DELAY_MS` (misfire=once jobs excepted): the claim's deadline ends there.
   */
  async #occurrence(job: JobSpec, at: number, claimAt: number | null): Promise<void> {
    const { store, events, instance, clock } = this.#deps;
    const base: Base = { job: job.name, mode: job.mode, occurrence: at, nominal: at, instance };
    if (this.#stopping) return;
    const startBy = claimAt !== null && job.misfire !== 'once' ? at + MAX_START_DELAY_MS : null;
    if (claimAt !== null) {
      const lateMs = clock.now() - claimAt;
      this.#pressure.woke(lateMs);
      if (clock.now() > at + MAX_START_DELAY_MS - MIN_CLAIM_MS) {
        // misfire=once jobs still run it, late; the overload is reported either way.
        if (startBy !== null) return this.#tooLate(job, base, lateMs, 'woke for the claim');
        this.#pressure.overload(lateMs);
      }
    }
    if (!(await this.#skewOk(base))) return;
    let timeoutMs: number | undefined;
    if (startBy !== null) {
      timeoutMs = startBy - clock.now();
      if (timeoutMs < MIN_CLAIM_MS) {
        this.#pressure.redisSlow('the clock-skew measurement took until the claim was due');
        return events.emit({ event: 'occurrence-skipped', ...base, reason: 'redis-slow', detail: 'measuring the clock skew against Redis took too long to claim in time' });
      }
    }
    let claim;
    try {
      claim = await store.claim({ job: job.name, occurrence: at, holder: this.#holder(at), ttlMs: job.lockTtlMs, skipIfRunning: job.overlap === 'skip', timeoutMs });
    } catch (err) {
      return this.#claimFailed(base, err);
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
        const start = (): Promise<void> => {
          const lateMs = clock.now() - at;
          if (startBy !== null && lateMs > MAX_START_DELAY_MS) {
            this.#tooLate(job, base, lateMs, 'got to the start', lease.token);
            return Promise.resolve();
          }
          return this.#execute(job, at, at, lease, false);
        };
        if (clock.now() >= at) return start();
        // Claimed ahead of time: start on time. A claimed occurrence runs even if shutdown begins meanwhile.
        await this.#track(new Promise<void>((resolve) => this.#timeline.at(at, () => resolve(start()), true)));
      }
    }
  }

  #planInterval(job: JobSpec, at: number, attempt = 0): void {
    const state = this.#states.get(job.name)!;
    state.next = at;
    this.#timeline.at(at, () => void this.#intervalAttempt(job, attempt));
  }

  async #intervalAttempt(job: JobSpec, failures: number): Promise<void> {
    const { store, instance, clock } = this.#deps;
    if (this.#stopping) return;
    const everyMs = job.schedule.kind === 'every' ? job.schedule.everyMs : 0;
    const poll = Math.min(Math.max(everyMs / 2, 250), 5_000);
    const now = clock.now();
    if (!(await this.#skewOk({ job: job.name, mode: job.mode, occurrence: 0, nominal: now, instance }))) return this.#planInterval(job, clock.now() + poll);
    let res;
    try {
      res = await store.claimInterval({ job: job.name, holder: this.#holder(0), ttlMs: job.lockTtlMs, intervalMs: everyMs });
    } catch (err) {
      this.#claimFailed({ job: job.name, mode: job.mode, occurrence: 0, nominal: now, instance }, err);
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
