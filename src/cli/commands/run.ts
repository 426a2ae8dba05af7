/**
 * `iamwatch run`: schedule every job until SIGINT/SIGTERM.
 * First signal: stop claiming, let running jobs finish up to SHUTDOWN_TIMEOUT (locks still
 * renewed), abort what remains, release locks, close Redis then the database, exit 0.
 * Second signal: abort everything at once and exit 130 (SIGINT) or 143 (SIGTERM).
 */
import { hasErrors } from '../../jobsfile/job.js';
import { LogSink } from '../../observe/log-sink.js';
import { redactUrl } from '../../observe/redact.js';
import { systemClock } from '../../scheduler/clock.js';
import { EventBus } from '../../scheduler/events.js';
import { Scheduler } from '../../scheduler/scheduler.js';
import { formatDuration } from '../../schedule/duration.js';
import { loadValidJobsFile } from '../load.js';
import { printDiagnostics } from '../output.js';
import type { LogFormat } from '../../observe/logger.js';
import { defaultInstanceId, openRuntime } from './runtime.js';

export interface RunOptions {
  config?: string;
  plugin?: string[];
  instanceId?: string;
  logFormat?: LogFormat;
  tui: boolean;
}

export interface RunOutcome {
  /** The signal that stopped the scheduler. */
  signal: NodeJS.Signals;
  /** A second signal cut the drain short. */
  forced: boolean;
}

/** Resolves on the first of SIGINT/SIGTERM; `second` resolves on the one after. */
function signals(): { first: Promise<NodeJS.Signals>; second: Promise<NodeJS.Signals>; dispose(): void } {
  let count = 0;
  let resolveFirst!: (s: NodeJS.Signals) => void;
  let resolveSecond!: (s: NodeJS.Signals) => void;
  const first = new Promise<NodeJS.Signals>((r) => (resolveFirst = r));
  const second = new Promise<NodeJS.Signals>((r) => (resolveSecond = r));
  const handler = (s: NodeJS.Signals): void => {
    count++;
    if (count === 1) resolveFirst(s);
    else resolveSecond(s);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    first,
    second,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

export async function run(opts: RunOptions): Promise<RunOutcome> {
  const sig = signals();
  try {
    const { jobsFile, registry } = await loadValidJobsFile({ config: opts.config, plugins: opts.plugin }, (jf) => {
      if (hasErrors(jf.diagnostics) || jf.diagnostics.length > 0) printDiagnostics(jf.diagnostics);
    });
    const { settings, jobs } = jobsFile;
    const instance = opts.instanceId ?? defaultInstanceId();
    const format = opts.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json');
    const runtime = await openRuntime({ settings, jobs, registry, instance, format, color: process.stdout.isTTY && !process.env.NO_COLOR });
    const { log, store, db } = runtime;
    if (!settings.redisUrl) {
      log.warn({ event: 'single-instance' }, 'REDIS_URL is not set: using in-process locks, so only ONE instance of this jobs file may run');
    }
    const events = new EventBus((err) => log.error({ event: 'sink-failed', err: String(err) }, 'an event listener failed'));
    events.add(new LogSink(log));
    const scheduler = new Scheduler({ jobs, registry, store, clock: systemClock, log, events, instance, maxClockSkewMs: settings.maxClockSkewMs, db });
    await scheduler.start();
    log.info(
      { event: 'started', jobs: jobs.length, file: jobsFile.file, redis: settings.redisUrl ? redactUrl(settings.redisUrl) : null, skewMs: scheduler.skewMs },
      `scheduling ${jobs.length} job${jobs.length === 1 ? '' : 's'} from ${jobsFile.file}`,
    );

    const signal = await sig.first;
    scheduler.stopClaiming();
    const running = scheduler.runningCount;
    log.info({ event: 'shutdown', signal, running, timeoutMs: settings.shutdownTimeoutMs }, running > 0
      ? `${signal}: no new runs; waiting up to ${formatDuration(settings.shutdownTimeoutMs)} for ${running} running job${running === 1 ? '' : 's'} (signal again to abort them)`
      : `${signal}: shutting down`);
    let forced = await Promise.race([scheduler.drain(settings.shutdownTimeoutMs).then(() => false), sig.second.then(() => true)]);
    if (scheduler.runningCount > 0) {
      log.warn({ event: 'shutdown-abort', running: scheduler.runningCount, forced }, forced ? 'second signal: aborting running jobs' : 'shutdown timeout reached: aborting running jobs');
      scheduler.abort();
      // Aborted runs end quickly (exec children get SIGTERM, then SIGKILL) and release their locks.
      if (!forced) forced = await Promise.race([scheduler.drain(15_000).then(() => false), sig.second.then(() => true)]);
      if (forced) await scheduler.drain(2_000);
    }
    await runtime.close();
    log.info({ event: 'stopped', forced }, 'stopped');
    return { signal, forced };
  } finally {
    sig.dispose();
  }
}
