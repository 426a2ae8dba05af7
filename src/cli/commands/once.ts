/**
 * `iamwatch once JOB`: run one job now. It takes the job's running lock like any run, so it never
 * overlaps a fleet run of the same job; when the lock is held it fails with LOCK_HELD and says who
 * holds it. Logs go to stderr; the result goes to stdout.
 */
import { errorMessage, IamwatchError } from '../../base/errors.js';
import type { JobSpec } from '../../jobsfile/job.js';
import { LogSink } from '../../observe/log-sink.js';
import { systemClock } from '../../scheduler/clock.js';
import { EventBus } from '../../scheduler/events.js';
import { executeRun, type Lease, type RunReport } from '../../scheduler/execute.js';
import { Renewer } from '../../scheduler/renewer.js';
import { RunControl } from '../../scheduler/run-control.js';
import { RunAborted } from '../../scheduler/run-wrappers.js';
import type { Watcher } from '../../watchers/define-watcher.js';
import { configFrom, loadValidJobsFile } from '../load.js';
import { printDiagnostics } from '../output.js';
import { guardProcess } from '../process-guard.js';
import { stopSignals } from '../signals.js';
import { defaultInstanceId, openRuntime } from './runtime.js';

export interface OnceOptions {
  config?: string;
  plugin?: string[];
  job: string;
  dryRun: boolean;
  lock: boolean;
  instanceId?: string;
  logFormat?: 'pretty' | 'json';
}

export interface OnceReport extends Omit<RunReport, 'occurrence' | 'nominal'> {
  occurrence: string;
  instance: string;
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
    color: process.stderr.isTTY && !process.env.NO_COLOR,
  });
  const { log, store, db } = runtime;
  const control = new RunControl();
  // First signal: abort the run (it stops within its abort grace); a second, or an iamwatch bug:
  // abandon it at once. Either way its lock is released before the command ends.
  const sig = stopSignals();
  const guard = guardProcess(log);
  let crash: { error: unknown } | undefined;
  void sig.first.then(() => control.abort(new RunAborted('shutdown', 'interrupted')));
  void sig.second.then(() => control.abandon(new RunAborted('shutdown', 'interrupted again')));
  void guard.crashed.then((error) => {
    crash = { error };
    control.abandon(new RunAborted('shutdown', 'internal error'));
  });
  try {
    const now = systemClock.now();
    let lease: Lease | null = null;
    if (opts.lock) {
      let acquired;
      try {
        acquired = await store.acquire({ job: job.name, holder: { instance, occurrence: now, startedAt: now, manual: true }, ttlMs: job.lockTtlMs });
      } catch (err) {
        throw new IamwatchError('UNAVAILABLE', `cannot take the running lock of ${job.name}: ${errorMessage(err)}`);
      }
      if (acquired.kind === 'running') {
        const h = acquired.holder;
        throw new IamwatchError('LOCK_HELD', `job ${job.name} is running${h ? ` on ${h.instance} since ${new Date(h.startedAt).toISOString()}` : ''}; not starting another run`, { holder: h });
      }
      lease = { token: acquired.token, fence: acquired.fence };
    } else {
      log.warn({ event: 'no-lock', job: job.name }, '--no-lock: running without the running lock; a fleet run of this job may overlap this one');
    }
    const events = new EventBus((e) => log.error({ event: 'sink-failed', err: errorMessage(e) }, 'an event listener failed'));
    events.add(new LogSink(log));
    // Manual runs are recorded and notified like any other (manual: true).
    const { attachRecorders } = await import('../../observe/observers.js');
    const recorders = attachRecorders({ events, store, settings: jobsFile.settings, jobs: [job], file: jobsFile.file, log });
    const report = await executeRun({
      job,
      watcher: registry.get(job.watcher) as Watcher,
      store,
      lease,
      occurrence: now,
      nominal: now,
      interval: job.mode === 'interval',
      manual: true,
      instance,
      clock: systemClock,
      log,
      events,
      control,
      renewer: new Renewer(systemClock),
      db,
      dryRun: opts.dryRun,
    });
    await recorders.flush();
    if (crash) throw crash.error;
    const { nominal: _nominal, ...rest } = report;
    return { ...rest, occurrence: new Date(now).toISOString(), instance, locked: lease !== null, dryRun: opts.dryRun || job.dryRun };
  } finally {
    sig.dispose();
    guard.dispose();
    await runtime.close();
  }
}
