/**
 * The one path every run takes, whoever started it: the scheduler (cron, rate, interval), `once`,
 * and a fleet trigger (trigger-runner.ts). Each caller passes its own gates; everything after them is the same,
 * so every run is claimed, contained, released, logged, recorded, measured and notified alike.
 *
 * In this order:
 *   gates (the caller's, in its order; the first that does not pass ends the attempt, and a skip
 *   is recorded as an `occurrence-skipped` event). The scheduler's (gates.ts):
 *     1. on time    the loop woke in time to claim (else `overloaded`)
 *     2. skew       this clock within MAX_CLOCK_SKEW of the store's (else `clock-skew`)
 *     3. claim      the one-way door and the running lock, in the store (batched per instant):
 *                   a cron/rate occurrence with overlap=skip judged there, or the next interval
 *                   generation; `once` and a trigger pass only the manual lock (held
                   elsewhere: `held`)
 *     4. start      wait for the nominal time when claimed ahead; too late to start: `overloaded`
 *   wrappers around the watcher, outermost first:
 *     5. renewal    the running lock renewed every ttl/3; losing it aborts the run (`lock-lost`)
 *     6. retries    a failed attempt retried `retries` times, `retry-delay` apart, never after an abort
 *     7. timeout    each attempt aborted at `timeout`
 *     8. abandon    an aborted attempt ends after its watcher's abort grace, whether it settles or not
 *     9. watcher    watcher.run(ctx), inside its watcher scope (uncaught errors are the watcher's)
 *   after:
 *    10. release    the running lock, by token
 *    11. record     one `run-finished` event (a RunSummary) to every sink
 *
 * The pipeline also tracks what is in flight, so shutdown can drain it and abort what remains.
 */
import type { Knex } from 'knex';
import { errorMessage } from '../base/errors.js';
import type { Logger } from '../base/logger.js';
import type { CoordinationStore } from '../coordination/store.js';
import type { JobSpec } from '../jobsfile/job.js';
import type { RunResult, Watcher } from '../watchers/define-watcher.js';
import type { Attempt, Gate, GateVerdict } from './attempt.js';
import type { Clock } from './clock.js';
import { occurrenceLabel, type EventSink, type Outcome, type RunSummary } from './events.js';
import { Renewer } from './renewer.js';
import { RunContext } from './run-context.js';
import { RunControl } from './run-control.js';
import { abortKind, RunAborted, withAbandon, withRenewal, withRetries, withTimeout, type RunFn } from './run-wrappers.js';
import { inWatcherScope } from './watcher-scope.js';

/** How long a watcher may take to stop after its signal is aborted before it is abandoned. */
export const DEFAULT_ABORT_GRACE_MS = 1_000;

export interface PipelineDeps {
  store: CoordinationStore;
  clock: Clock;
  log: Logger;
  events: EventSink;
  instance: string;
  /** Finds the watcher of a job (the registry). */
  watcher(job: JobSpec): Watcher;
  db?: Knex;
  /** Told about every lock renewal that failed (for the pressure signals). */
  onRenewalFailure?(err: unknown): void;
}

export interface RunReport extends RunSummary {
  watcher: string;
}

/** How an attempt ended: run (with its report), or stopped by a gate. */
export type PipelineOutcome = { kind: 'ran'; report: RunReport } | Exclude<GateVerdict, { kind: 'pass' }>;

function abortGraceMs(watcher: Watcher, job: JobSpec): number {
  try {
    const ms = watcher.abortGraceMs?.(job.options);
    return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : DEFAULT_ABORT_GRACE_MS;
  } catch {
    return DEFAULT_ABORT_GRACE_MS;
  }
}

/** What a watcher returned, as a result: an object, or nothing; anything else becomes its summary. */
function asRunResult(value: unknown): RunResult | void {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object' && !Array.isArray(value)) return value as RunResult;
  return { summary: errorMessage(value) };
}

function outcomeOf(err: unknown, run: RunControl): Outcome {
  const kind = err instanceof RunAborted ? err.kind : abortKind(run);
  if (kind === 'timeout') return 'timeout';
  if (kind === 'lock-lost') return 'lock-lost';
  if (kind === 'shutdown') return 'aborted';
  return 'failed';
}

export class RunPipeline {
  readonly #d: PipelineDeps;
  readonly #renewer: Renewer;
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #controls = new Set<RunControl>();
  readonly #runningHere = new Map<string, number>();

  constructor(deps: PipelineDeps) {
    this.#d = deps;
    this.#renewer = new Renewer(deps.clock, deps.onRenewalFailure);
  }

  /** Attempts in flight: between their first gate and their record. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Runs of `job` executing in this process now. */
  runningHere(job: string): number {
    return this.#runningHere.get(job) ?? 0;
  }

  /** Takes an attempt through `gates`, then runs it. */
  run(a: Attempt, gates: readonly Gate[]): Promise<PipelineOutcome> {
    const work = this.#run(a, gates);
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
    return work;
  }

  async #run(a: Attempt, gates: readonly Gate[]): Promise<PipelineOutcome> {
    for (const gate of gates) {
      const verdict = await gate(a);
      if (verdict.kind === 'pass') continue;
      const at = { job: a.job.name, mode: a.job.mode, occurrence: a.id, nominal: a.nominal, instance: this.#d.instance };
      if (verdict.kind === 'skip') {
        const { kind: _kind, ...skip } = verdict;
        this.#d.events.emit({ event: 'occurrence-skipped', ...at, ...skip, ...(a.manual ? { manual: true, by: a.by } : {}) });
      } else if (verdict.kind === 'taken') {
        this.#d.events.emit({ event: 'occurrence-taken', ...at });
      }
      return verdict;
    }
    return { kind: 'ran', report: await this.#execute(a) };
  }

  /** Waits for attempts in flight, up to `timeoutMs`; true when all finished. */
  async drain(timeoutMs: number): Promise<boolean> {
    let cancel: (() => void) | undefined;
    const timedOut = new Promise<false>((resolve) => (cancel = this.#d.clock.setTimer(timeoutMs, () => resolve(false))));
    const finished = (async () => {
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
      return true as const;
    })();
    const result = await Promise.race([finished, timedOut]);
    cancel?.();
    return result;
  }

  /** Aborts every run; each ends within its watcher's abort grace, or at once with `now`, releasing its lock. */
  abort(reason: RunAborted, now = false): void {
    for (const c of this.#controls) {
      if (now) c.abandon(reason);
      else c.abort(reason);
    }
  }

  async #execute(a: Attempt): Promise<RunReport> {
    const { store, clock, events, instance } = this.#d;
    const { job, lease } = a;
    const watcher = this.#d.watcher(job);
    const control = new RunControl();
    this.#controls.add(control);
    this.#runningHere.set(job.name, this.runningHere(job.name) + 1);
    const fence = lease?.fence ?? 0;
    const startedAt = clock.now();
    const latenessMs = a.manual ? 0 : Math.max(0, startedAt - (a.startAt ?? a.nominal));
    const label = occurrenceLabel(job.mode, a.id, a.nominal);
    const base = { job: job.name, mode: job.mode, occurrence: a.id, nominal: a.nominal, instance, fence };
    // Child loggers cost a little; most runs of a busy scheduler never log.
    let runLog: Logger | undefined;
    const log = (): Logger => (runLog ??= this.#d.log.child({ job: job.name, occurrence: label, fence }));
    let attempts = 0;

    const scope = { job: job.name, watcher: watcher.name, occurrence: label, fence };
    const runWatcher: RunFn = async (run, attempt) => {
      attempts = attempt;
      events.emit({ event: 'run-started', ...base, attempt, latenessMs, manual: a.manual, by: a.by });
      const ctx = new RunContext(a, watcher, run, attempt, fence, instance, this.#d.db, log);
      const result = await inWatcherScope(scope, () => watcher.run(ctx));
      // A watcher that ignored its signal still doesn't get to report success after an abort.
      if (run.aborted) throw run.reason;
      return asRunResult(result);
    };
    const contained = withAbandon(runWatcher, {
      graceMs: abortGraceMs(watcher, job),
      clock,
      onLateSettle: (late) =>
        log().warn(
          { event: 'abandoned-run-settled', ok: late.ok, err: late.ok ? undefined : errorMessage(late.error) },
          late.ok ? 'an abandoned run finished after all; its result is ignored' : 'an abandoned run failed after all; its error is ignored',
        ),
    });
    let chain = withRetries(withTimeout(contained, job.timeoutMs, clock), job.retries, job.retryDelayMs, clock, (attempt, err) =>
      events.emit({ event: 'run-retry', ...base, attempt, error: errorMessage(err), delayMs: job.retryDelayMs }),
    );
    if (lease) {
      chain = withRenewal(chain, this.#renewer, {
        renew: async () => {
          const held = await store.renew(job.name, lease.token, job.lockTtlMs);
          events.emit({ event: 'lock-renewed', ...base, held });
          return held;
        },
        ttlMs: job.lockTtlMs,
        onLost: (detail) => log().warn({ event: 'lock-lost', detail }, 'lost the running lock; aborting the run'),
      });
    }

    let outcome: Outcome = 'ok';
    let result: RunResult | undefined;
    let error: string | undefined;
    try {
      result = (await chain(control, 1)) ?? undefined;
    } catch (err) {
      outcome = outcomeOf(err, control);
      error = errorMessage(err);
    } finally {
      this.#controls.delete(control);
      this.#runningHere.set(job.name, this.runningHere(job.name) - 1);
      if (lease) {
        await store.release(job.name, lease.token, lease.interval).catch((err: unknown) => {
          log().warn({ event: 'release-failed', err: errorMessage(err) }, 'could not release the running lock; it expires by itself');
        });
      }
    }
    const endedAt = clock.now();
    const summary: RunSummary = {
      job: job.name,
      occurrence: a.id,
      nominal: a.nominal,
      fence,
      attempts: Math.max(attempts, 1),
      outcome,
      startedAt,
      endedAt,
      durationMs: endedAt - startedAt,
      ...(result ? { result } : {}),
      ...(error ? { error } : {}),
    };
    events.emit({ event: 'run-finished', ...base, ...summary, latenessMs, manual: a.manual, by: a.by });
    return { ...summary, watcher: watcher.name };
  }
}
