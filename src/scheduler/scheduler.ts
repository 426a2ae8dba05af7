/**
 * The scheduler: plans every job's occurrences on one timeline and hands each to the run
 * pipeline (pipeline.ts) with the gates of its mode. Modes:
 * - cron / rate: occurrence id = nominal time; fire at each one whether or not a run is in
 *   progress (unless overlap=skip); misfire=once catches up the latest missed occurrence at start.
 *   A run starts at most MAX_START_DELAY_MS after its nominal time (gates.ts): an occurrence whose
 *   claim got no answer by then (redis-slow) or that this instance woke too late for (overloaded)
 *   is skipped and logged, never started late, unless misfire=once;
 * - interval: the store decides when the next generation may start (its previous run's end plus
 *   the interval, on the store's clock), so the schedule is the fleet's, not this process's.
 * jitter=: a cron or rate occurrence keeps its nominal time as its id (claims, history, misfire)
 * and is claimed and started at nominal + its offset (Attempt.startAt); an interval generation is
 * claimed when due and its start waits its offset, holding the lock (jitter-hold.ts).
 * Reload (reconfigure): added jobs are planned, removed ones stop being claimed (runs in progress
 * finish), changed ones take their new definition from their next occurrence. Each planned wake
 * belongs to one job state and one definition: a wake whose job was removed or redefined since it
 * was planned does nothing.
 * Every wait goes through the injected clock, so the whole core runs on a fake clock in tests.
 */
import type { Knex } from 'knex';
import { errorMessage } from '../base/errors.js';
import type { Logger } from '../base/logger.js';
import type { CoordinationStore } from '../coordination/store.js';
import type { JobsChange } from '../jobsfile/config-change.js';
import { jitteredStart, nextStart, type JobSpec } from '../jobsfile/job.js';
import { cronSchedule, previousOccurrence, rateSchedule, type Schedule } from '../schedule/schedule.js';
import type { Watcher } from '../watchers/define-watcher.js';
import type { WatcherRegistry } from '../watchers/registry.js';
import type { Attempt, Gate } from './attempt.js';
import type { Clock } from './clock.js';
import type { EventSink } from './events.js';
import { claimIntervalGeneration, claimOccurrence, MAX_START_DELAY_MS, skewWithinBound, startOnTime, triggerLock, wokeInTime } from './gates.js';
import { holdForJitter } from './jitter-hold.js';
import { RunPipeline } from './pipeline.js';
import { Pressure, type PressureSnapshot } from './pressure.js';
import { storeFailureOf } from '../coordination/store-failure.js';
import { RunAborted } from './run-wrappers.js';
import { ServerWatch } from './server-watch.js';
import { SkewMonitor } from './skew.js';
import { Timeline } from './timeline.js';
import { TriggerRunner } from './trigger-runner.js';

export { MAX_START_DELAY_MS } from './gates.js';

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
  /** Next planned start (ms): the occurrence's nominal time plus its jitter; null for none. */
  next: number | null;
  runningHere: number;
}

/** A job as the scheduler holds it: its definition and its one planned wake. */
interface JobSlot {
  job: JobSpec;
  /** Next planned start (ms), null for none. */
  next: number | null;
  /** Cancels the planned wake. */
  cancel: (() => void) | null;
  /** The last cron or rate occurrence handed to the pipeline: a redefinition plans after it. */
  fired: number | null;
  /** An interval attempt is in flight: it plans the next one (with the slot's definition) when it ends. */
  busy: boolean;
}

/** Retry delays of an interval job whose claim failed, by consecutive failure. */
const RETRY_MS = [250, 500, 1_000, 2_000, 5_000];
/**
 * cron and rate occurrences are claimed up to this long before their nominal time, so the claim's
 * round trip is done when the run is due. A claim is final either way; overlap=skip jobs claim on
 * time, since whether the job is still running must be judged at the occurrence itself.
 */
export const CLAIM_AHEAD_MS = 250;
/** The timeline is re-armed at least this often: the health check's proof that the loop is alive. */
const HEARTBEAT_MS = 5_000;

export class Scheduler {
  readonly #deps: SchedulerDeps;
  readonly #timeline: Timeline;
  readonly #skew: SkewMonitor;
  readonly #server: ServerWatch;
  readonly #pressure = new Pressure();
  readonly #pipeline: RunPipeline;
  readonly #occurrenceGates: readonly Gate[];
  readonly #intervalGates: readonly Gate[];
  readonly #triggers: TriggerRunner;
  readonly #slots = new Map<string, JobSlot>();
  /** Jobs whose next occurrence is planned after the due runs have started. */
  readonly #toPlan: Array<() => void> = [];
  /** Interval starts waiting for their jitter: each ends its wait (false) when claiming stops. */
  readonly #holds = new Set<() => void>();
  #stopping = false;
  /** Last time the timeline woke or was armed: the health check's liveness signal. */
  lastTick = 0;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
    const { store, clock, instance } = deps;
    this.#timeline = new Timeline(clock);
    this.#server = new ServerWatch(store, deps.log);
    this.#skew = new SkewMonitor(store, clock, deps.maxClockSkewMs, deps.log, () => this.#server.check());
    this.#pipeline = new RunPipeline({
      store,
      clock,
      log: deps.log,
      events: deps.events,
      instance,
      db: deps.db,
      watcher: (job) => deps.registry.get(job.watcher) as Watcher,
      onRenewalFailure: (err) => {
        const f = storeFailureOf(err);
        if (f?.store === 'slow') this.#pressure.redisSlow(`a lock renewal got no answer within ${f.timeoutMs} ms`);
      },
    });
    const skew = skewWithinBound(this.#skew, this.#pressure);
    // A claimed occurrence's start is committed: it still happens if shutdown begins meanwhile.
    const waitUntil = (at: number): Promise<void> => new Promise((resolve) => this.#timeline.at(at, resolve, true));
    this.#occurrenceGates = [wokeInTime(clock, this.#pressure), skew, claimOccurrence(store, clock, this.#pressure, instance), startOnTime(store, clock, this.#pressure, waitUntil)];
    this.#intervalGates = [skew, claimIntervalGeneration(store, clock, this.#pressure, instance), holdForJitter(store, clock, this.#pressure, deps.log, (at) => this.#hold(at))];
    this.#triggers = new TriggerRunner({
      queue: store.triggers(),
      pipeline: this.#pipeline,
      gate: triggerLock(store, clock, this.#pressure, instance),
      clock,
      log: deps.log,
      instance,
      job: (name) => this.#slots.get(name)?.job,
      hold: (at) => this.#hold(at),
    });
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

  /** Occurrences in flight here: being claimed, waiting for their start, or running. */
  get runningCount(): number {
    return this.#pipeline.inFlight;
  }

  states(): JobState[] {
    return [...this.#slots.values()].map((s) => ({ job: s.job, next: s.next, runningHere: this.#pipeline.runningHere(s.job.name) }));
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
      const slot: JobSlot = { job, next: null, cancel: null, fired: null, busy: false };
      this.#slots.set(job.name, slot);
      this.#schedule(slot, now);
      if (job.enabled && job.misfire === 'once' && job.mode !== 'interval') void this.#catchUp(slot, scheduleOf(job), now);
    }
    this.#triggers.start();
  }

  /**
   * Applies a reloaded jobs file: added jobs are planned, removed ones are no longer claimed (their
   * runs in progress finish), changed ones are planned afresh with their new definition, from
   * after the occurrence already handed on (cron, rate) or when the run in flight ends (interval).
   */
  reconfigure(change: JobsChange): void {
    if (this.#stopping) return;
    const now = this.#deps.clock.now();
    for (const job of change.removed) {
      this.#slots.get(job.name)?.cancel?.();
      this.#slots.delete(job.name);
    }
    for (const { after } of change.changed) {
      const slot = this.#slots.get(after.name);
      if (!slot) continue;
      slot.cancel?.();
      slot.cancel = null;
      slot.job = after;
      slot.next = null;
      if (!slot.busy) this.#schedule(slot, now);
    }
    for (const job of change.added) {
      const slot: JobSlot = { job, next: null, cancel: null, fired: null, busy: false };
      this.#slots.set(job.name, slot);
      this.#schedule(slot, now);
    }
  }

  /**
   * Plans a slot's first wake after `from`, and after the occurrence it last handed on (enabled=false:
   * in the file, never scheduled).
   */
  #schedule(slot: JobSlot, from: number): void {
    const { job } = slot;
    if (!job.enabled) return;
    if (job.mode === 'interval') return this.#planInterval(slot, job, from, 0);
    const schedule = scheduleOf(job);
    // With jitter=, the latest occurrence may not have started yet: it is the first to plan.
    let at = nextStart(job, schedule, from)?.occurrence ?? null;
    if (at !== null && slot.fired !== null && at <= slot.fired) at = schedule.next(slot.fired);
    this.#plan(slot, job, schedule, at);
  }

  /** The slot still holds this definition of its job (not removed, not redefined since). */
  #current(slot: JobSlot, job: JobSpec): boolean {
    return slot.job === job && this.#slots.get(job.name) === slot;
  }

  /** Stops claiming; running jobs go on (their locks renewed) until drain() or abort(). */
  stopClaiming(): void {
    this.#stopping = true;
    this.#triggers.stop();
    this.#timeline.stop();
    this.#skew.stop();
    for (const stop of [...this.#holds]) stop();
  }

  /** Waits for occurrences in flight, up to `timeoutMs`; true when all finished. */
  drain(timeoutMs: number): Promise<boolean> {
    return this.#pipeline.drain(timeoutMs);
  }

  /**
   * Aborts every running job; each ends within its watcher's abort grace, or at once with `now`
   * (a second signal, a crash), and releases its lock as it ends.
   */
  abort(now = false): void {
    this.#pipeline.abort(new RunAborted('shutdown', 'aborted by shutdown'), now);
  }

  #heartbeat(): void {
    const beat = (): void => {
      this.lastTick = this.#deps.clock.now();
      this.#timeline.at(this.lastTick + HEARTBEAT_MS, beat);
    };
    beat();
  }

  #attempt(job: JobSpec, at: number, claimAt: number | null): Attempt {
    const startAt = jitteredStart(job, at);
    const startBy = claimAt !== null && job.misfire !== 'once' ? startAt + MAX_START_DELAY_MS : null;
    return { job, id: at, nominal: at, startAt, manual: false, claimAt, startBy, lease: null, dryRun: false };
  }

  /** Waits on the timeline until `at` (true), or until claiming stops (false). */
  #hold(at: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.#stopping) return resolve(false);
      const end = (ok: boolean): void => {
        this.#holds.delete(stop);
        resolve(ok);
      };
      const cancel = this.#timeline.at(at, () => end(true));
      const stop = (): void => {
        cancel();
        end(false);
      };
      this.#holds.add(stop);
    });
  }

  #plan(slot: JobSlot, job: JobSpec, schedule: Schedule, at: number | null): void {
    slot.cancel = null;
    if (at === null) {
      slot.next = null;
      return;
    }
    const startAt = jitteredStart(job, at);
    slot.next = startAt;
    // At most a quarter of the lock's lifetime ahead, so the lock is renewed well before it lapses.
    const claimAt = job.overlap === 'skip' ? startAt : startAt - Math.min(CLAIM_AHEAD_MS, job.lockTtlMs / 4);
    slot.cancel = this.#timeline.at(claimAt, () => {
      if (!this.#current(slot, job)) return;
      this.lastTick = this.#deps.clock.now();
      slot.cancel = null;
      slot.fired = at;
      if (!this.#stopping) void this.#pipeline.run(this.#attempt(job, at, claimAt), this.#occurrenceGates);
      // Planning the next occurrence waits until the due runs have started.
      const next = (): void => {
        if (this.#current(slot, job)) this.#plan(slot, job, schedule, schedule.next(at));
      };
      if (this.#toPlan.push(next) === 1) setImmediate(() => this.#planPending());
    });
  }

  #planPending(): void {
    for (let plan = this.#toPlan.shift(); plan; plan = this.#toPlan.shift()) plan();
  }

  /** misfire=once: run the latest occurrence missed while no instance was up, if the fleet never claimed it. */
  async #catchUp(slot: JobSlot, schedule: Schedule, now: number): Promise<void> {
    const { job } = slot;
    const latest = previousOccurrence(schedule, now);
    // Its jittered start still to come: it is planned (start()), so nothing was missed.
    if (latest === null || jitteredStart(job, latest) > now) return;
    try {
      const newest = await this.#deps.store.newestClaim(job.name);
      // No claim ever: nothing was missed, the job is new. A claim at or after `latest`: nothing was missed.
      if (newest === null || newest >= latest) return;
    } catch (err) {
      this.#deps.log.warn({ event: 'misfire-check-failed', job: job.name, err: errorMessage(err) }, 'could not check for a missed occurrence');
      return;
    }
    this.#deps.log.info({ event: 'misfire', job: job.name, occurrence: latest }, 'running the latest missed occurrence once (misfire=once)');
    if (!this.#stopping && this.#current(slot, job)) await this.#pipeline.run(this.#attempt(job, latest, null), this.#occurrenceGates);
  }

  #planInterval(slot: JobSlot, job: JobSpec, at: number, failures: number): void {
    slot.next = at;
    slot.cancel = this.#timeline.at(at, () => {
      if (!this.#current(slot, job)) return;
      slot.cancel = null;
      void this.#intervalAttempt(slot, job, failures);
    });
  }

  async #intervalAttempt(slot: JobSlot, job: JobSpec, failures: number): Promise<void> {
    const { clock } = this.#deps;
    if (this.#stopping) return;
    slot.busy = true;
    let outcome;
    try {
      outcome = await this.#pipeline.run({ job, id: 0, nominal: clock.now(), manual: false, claimAt: null, startBy: null, lease: null, dryRun: false }, this.#intervalGates);
    } finally {
      slot.busy = false;
    }
    if (this.#stopping || this.#slots.get(job.name) !== slot) return;
    // Redefined meanwhile: the new definition starts afresh (its own interval from now).
    if (slot.job !== job) return this.#schedule(slot, clock.now());
    const everyMs = job.schedule.kind === 'every' ? job.schedule.everyMs : 0;
    switch (outcome.kind) {
      case 'ran':
        return this.#planInterval(slot, job, clock.now() + everyMs, 0);
      case 'defer':
        return this.#planInterval(slot, job, clock.now() + outcome.ms, 0);
      default:
        // Paused: one skip recorded per attempt; the next attempt an interval later.
        if (outcome.kind === 'skip' && outcome.reason === 'paused') return this.#planInterval(slot, job, clock.now() + everyMs, 0);
        // Skipped (the store unreachable or slow, or the clock skewed): try again with backoff.
        return this.#planInterval(slot, job, clock.now() + RETRY_MS[Math.min(failures, RETRY_MS.length - 1)]!, failures + 1);
    }
  }
}

const scheduleOf = (job: JobSpec): Schedule => (job.schedule.kind === 'cron' ? cronSchedule(job.schedule, job.tz) : rateSchedule(job.schedule));
