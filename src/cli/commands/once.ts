/**
 * `iamwatch once JOB`: run one job now, here. It goes through the same run pipeline as scheduled
 * runs with one gate, the job's running lock, so it never overlaps a fleet run of the same job
 * (when the lock is held it fails with LOCK_HELD and says who holds it), and it is logged,
 * recorded and notified like any run. Logs go to stderr; the result goes to stdout.
 */
import { errorMessage, IamwatchError } from '../../base/errors.js';
import type { Outcome } from '../../base/outcomes.js';
import type { JobSpec } from '../../jobsfile/job.js';
import type { Observers } from '../../observe/observers.js';
import { systemClock } from '../../scheduler/clock.js';
import { EventBus } from '../../scheduler/events.js';
import { manualLock, manualNotPaused } from '../../scheduler/gates.js';
import { RunPipeline } from '../../scheduler/pipeline.js';
import { RunAborted } from '../../scheduler/run-wrappers.js';
import type { RunResult, Watcher } from '../../watchers/define-watcher.js';
import { configFrom, loadValidJobsFile } from '../load.js';
import { printDiagnostics, useColor } from '../output.js';
import { guardProcess } from '../process-guard.js';
import { stopSignals } from '../signals.js';
import { whoAmI } from '../who.js';
import { defaultInstanceId, openRuntime } from './runtime.js';

export interface OnceOptions {
  config?: string;
  plugin?: string[];
  job: string;
  dryRun: boolean;
  lock: boolean;
  instanceId?: string;
  logFormat?: 'pretty' | 'json';
  /** Serve /metrics and /healthz on host:port while the run lasts. */
  metrics?: string;
}

/** What `once` prints (`--json`): every key always present, times ISO-8601 (UTC). */
export interface OnceReport {
  job: string;
  watcher: string;
  /** When the run was asked for: its occurrence in the history. */
  occurrence: string;
  instance: string;
  fence: number;
  attempts: number;
  outcome: Outcome;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** What the watcher returned (`summary` and its own fields), or null. */
  result: RunResult | null;
  /** Why the run did not succeed, or null. */
  error: string | null;
  locked: boolean;
  dryRun: boolean;
}

function findJob(jobs: readonly JobSpec[], name: string, file: string): JobSpec {
  const byName = jobs.find((j) => j.name === name);
  if (byName) return byName;
  const byWatcher = jobs.filter((j) => j.watcher === name);
  if (byWatcher.length === 1) return byWatcher[0]!;
  if (byWatcher.length > 1) {
    throw new IamwatchError('USAGE', `"${name}" is the watcher of ${byWatcher.length} jobs (${byWatcher.map((j) => j.name).join(', ')}); name one of them`);
  }
  throw new IamwatchError('USAGE', `no job or watcher "${name}" in ${file} (jobs: ${jobs.map((j) => j.name).join(', ') || 'none'})`);
}

export async function once(opts: OnceOptions): Promise<OnceReport> {
  const { jobsFile, registry } = await loadValidJobsFile(configFrom(opts), (jf) => printDiagnostics(jf.diagnostics));
  const job = findJob(jobsFile.jobs, opts.job, jobsFile.file);
  const instance = opts.instanceId ?? defaultInstanceId();
  const runtime = await openRuntime({
    file: jobsFile.file,
    settings: jobsFile.settings,
    jobs: [job],
    registry,
    instance,
    format: opts.logFormat ?? (process.stderr.isTTY ? 'pretty' : 'json'),
    destination: process.stderr,
    color: useColor(process.stderr),
  });
  const { log, store, db } = runtime;
  const events = new EventBus((e) => log.error({ event: 'sink-failed', err: errorMessage(e) }, 'an event listener failed'));
  const pipeline = new RunPipeline({ store, clock: systemClock, log, events, instance, db, watcher: (j) => registry.get(j.watcher) as Watcher });
  // First signal: abort the run (it stops within its abort grace); a second, or an iamwatch bug:
  // abandon it at once. Either way its lock is released before the command ends.
  const sig = stopSignals();
  const guard = guardProcess(log);
  let crash: { error: unknown } | undefined;
  void sig.first.then(() => pipeline.abort(new RunAborted('shutdown', 'interrupted')));
  void sig.second.then(() => pipeline.abort(new RunAborted('shutdown', 'interrupted again'), true));
  void guard.crashed.then((error) => {
    crash = { error };
    pipeline.abort(new RunAborted('shutdown', 'internal error'), true);
  });
  let observers: Observers | undefined;
  try {
    // The same observers as `run` (log, tracker, history, webhooks, metrics with --metrics), no heartbeat.
    const { attachObservers } = await import('../../observe/observers.js');
    const view = { skewMs: null, stopping: false, get lastTick() { return Date.now(); }, get runningCount() { return pipeline.inFlight; }, states: () => [{ next: null, runningHere: pipeline.runningHere(job.name) }] };
    observers = await attachObservers({ events, scheduler: view, store, db, settings: jobsFile.settings, jobs: [job], file: jobsFile.file, instance, log, metricsAddr: opts.metrics, heartbeat: false });
    if (!opts.lock) log.warn({ event: 'no-lock', job: job.name }, '--no-lock: running without the running lock; a fleet run of this job may overlap this one');
    const now = systemClock.now();
    const attempt = { job, id: now, nominal: now, manual: true, by: whoAmI(), claimAt: null, startBy: null, lease: null, dryRun: opts.dryRun };
    const outcome = await pipeline.run(attempt, [opts.lock ? manualLock(store, systemClock, instance) : manualNotPaused(store)]);
    if (outcome.kind === 'held') {
      const h = outcome.holder;
      throw new IamwatchError('LOCK_HELD', `job ${job.name} is running${h ? ` on ${h.instance} since ${new Date(h.startedAt).toISOString()}` : ''}; not starting another run`, { holder: h });
    }
    if (outcome.kind !== 'ran') throw new Error(`once: unexpected pipeline outcome ${outcome.kind}`);
    if (crash) throw crash.error;
    const r = outcome.report;
    const iso = (t: number): string => new Date(t).toISOString();
    return {
      job: r.job,
      watcher: r.watcher,
      occurrence: iso(now),
      instance,
      fence: r.fence,
      attempts: r.attempts,
      outcome: r.outcome,
      startedAt: iso(r.startedAt),
      endedAt: iso(r.endedAt),
      durationMs: r.durationMs,
      result: r.result ?? null,
      error: r.error ?? null,
      locked: opts.lock,
      dryRun: opts.dryRun || job.dryRun,
    };
  } finally {
    sig.dispose();
    guard.dispose();
    await observers?.close();
    await runtime.close();
  }
}
