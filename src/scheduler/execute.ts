/**
 * Executing one run of a job whose running lock is held: builds the watcher context, applies
 * the wrapper chain (renewal, retries, timeout), releases the lock, and reports events.
 * Shared by the scheduler and `iamwatch once`.
 */
import type { Knex } from 'knex';
import type { CoordinationStore } from '../coordination/store.js';
import { errorMessage, IamwatchError } from '../base/errors.js';
import type { JobSpec } from '../jobsfile/job.js';
import type { Logger } from '../base/logger.js';
import type { RunResult, Watcher, WatcherContext } from '../watchers/define-watcher.js';
import type { Clock } from './clock.js';
import { occurrenceLabel, type EventSink, type Outcome, type RunSummary } from './events.js';
import type { Renewer } from './renewer.js';
import type { RunControl } from './run-control.js';
import { abortKind, RunAborted, withAbandon, withRenewal, withRetries, withTimeout, type RunFn } from './run-wrappers.js';
import { inWatcherScope } from './watcher-scope.js';

export interface Lease {
  token: string;
  fence: number;
}

export interface ExecuteParams {
  job: JobSpec;
  watcher: Watcher;
  store: CoordinationStore;
  /** null: run without a lock (`once --no-lock`). */
  lease: Lease | null;
  /** Occurrence id: nominal ms for cron/rate, generation for interval. */
  occurrence: number;
  /** Nominal start time (ms), handed to the watcher as ctx.occurrence. */
  nominal: number;
  /** An interval run: its end is recorded when the lock is released. */
  interval: boolean;
  manual: boolean;
  instance: string;
  clock: Clock;
  log: Logger;
  events: EventSink;
  /** The caller aborts it (with a RunAborted of kind shutdown) to stop the run. */
  control: RunControl;
  renewer: Renewer;
  db?: Knex;
  dryRun?: boolean;
}

export interface RunReport extends RunSummary {
  watcher: string;
}

/** The context a watcher's run sees. A class, so the getters live on the prototype: cheap to create. */
class RunContext implements WatcherContext {
  readonly job: string;
  readonly options: Record<string, unknown>;
  readonly occurrence: Date;
  readonly instance: string;
  readonly dryRun: boolean;
  readonly env: Record<string, string>;
  #log: Logger | undefined;

  constructor(
    private readonly p: ExecuteParams,
    private readonly run: RunControl,
    readonly attempt: number,
    readonly fence: number,
    private readonly runLog: () => Logger,
  ) {
    this.job = p.job.name;
    this.options = p.job.options;
    this.occurrence = new Date(p.nominal);
    this.instance = p.instance;
    this.dryRun = p.dryRun || p.job.dryRun;
    this.env = p.job.env;
  }

  get db(): Knex {
    if (!this.p.db) throw new IamwatchError('UNAVAILABLE', `watcher ${this.p.watcher.name} used ctx.db without declaring database: true`);
    return this.p.db;
  }

  get log(): Logger {
    return (this.#log ??= this.runLog().child({ attempt: this.attempt }));
  }

  get signal(): AbortSignal {
    return this.run.signal;
  }
}

/** How long a watcher may take to stop after its signal is aborted before it is abandoned. */
export const DEFAULT_ABORT_GRACE_MS = 1_000;

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

export async function executeRun(p: ExecuteParams): Promise<RunReport> {
  const { job, watcher, store, lease, clock, control } = p;
  const fence = lease?.fence ?? 0;
  const startedAt = clock.now();
  const latenessMs = p.manual ? 0 : Math.max(0, startedAt - p.nominal);
  const base = { job: job.name, mode: job.mode, occurrence: p.occurrence, nominal: p.nominal, instance: p.instance, fence };
  // Child loggers cost a little; most runs of a busy scheduler never log.
  let runLog: Logger | undefined;
  const log = (): Logger => (runLog ??= p.log.child({ job: job.name, occurrence: occurrenceLabel(job.mode, p.occurrence, p.nominal), fence }));
  let attempts = 0;

  const scope = { job: job.name, watcher: watcher.name, occurrence: occurrenceLabel(job.mode, p.occurrence, p.nominal), fence };
  const runWatcher: RunFn = async (run, attempt) => {
    attempts = attempt;
    p.events.emit({ event: 'run-started', ...base, attempt, latenessMs, manual: p.manual });
    const ctx = new RunContext(p, run, attempt, fence, log);
    const result = await inWatcherScope(scope, () => watcher.run(ctx));
    // A watcher that ignored its signal still doesn't get to report success after an abort.
    if (run.aborted) throw run.reason;
    return asRunResult(result);
  };

  const contained = withAbandon(runWatcher, {
    graceMs: abortGraceMs(watcher, job),
    onLateSettle: (late) =>
      log().warn(
        { event: 'abandoned-run-settled', ok: late.ok, err: late.ok ? undefined : errorMessage(late.error) },
        late.ok ? 'an abandoned run finished after all; its result is ignored' : 'an abandoned run failed after all; its error is ignored',
      ),
  });
  let chain = withRetries(withTimeout(contained, job.timeoutMs), job.retries, job.retryDelayMs, (attempt, err) =>
    p.events.emit({ event: 'run-retry', ...base, attempt, error: errorMessage(err), delayMs: job.retryDelayMs }),
  );
  if (lease) {
    chain = withRenewal(chain, p.renewer, {
      renew: async () => {
        const held = await store.renew(job.name, lease.token, job.lockTtlMs);
        p.events.emit({ event: 'lock-renewed', ...base, held });
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
    if (lease) {
      await store.release(job.name, lease.token, p.interval).catch((err: unknown) => {
        log().warn({ event: 'release-failed', err: errorMessage(err) }, 'could not release the running lock; it expires by itself');
      });
    }
  }
  const endedAt = clock.now();
  const report: RunReport = {
    job: job.name,
    watcher: watcher.name,
    occurrence: p.occurrence,
    nominal: p.nominal,
    fence,
    attempts: Math.max(attempts, 1),
    outcome,
    startedAt,
    endedAt,
    durationMs: endedAt - startedAt,
    ...(result ? { result } : {}),
    ...(error ? { error } : {}),
  };
  const { watcher: _watcher, ...summary } = report;
  p.events.emit({ event: 'run-finished', ...base, ...summary, latenessMs, manual: p.manual });
  return report;
}
