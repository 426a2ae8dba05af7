/**
 * `iamwatch run`: schedule every job until SIGINT/SIGTERM.
 * First signal: stop claiming, let running jobs finish up to SHUTDOWN_TIMEOUT (locks still
 * renewed), abort what remains, release locks, close Redis then the database, exit 0.
 * Second signal: abort everything at once and exit 130 (SIGINT) or 143 (SIGTERM).
 * On a terminal (unless --no-tui or --log-format json) the ink dashboard owns stdout, log lines
 * go to its tail, and `q` / Ctrl-C act as SIGINT. Observers (history, heartbeats, metrics and
 * health, webhooks) are attached as event sinks and flushed before Redis is closed.
 */
import { databaseLabel } from '../../db/connect.js';
import { LogSink } from '../../observe/log-sink.js';
import type { LogTail } from '../../observe/log-tail.js';
import type { Observers } from '../../observe/observers.js';
import { redactUrl } from '../../observe/redact.js';
import { systemClock } from '../../scheduler/clock.js';
import { EventBus } from '../../scheduler/events.js';
import { Scheduler } from '../../scheduler/scheduler.js';
import { formatDuration } from '../../schedule/duration.js';
import type { DashboardFeed } from '../../tui/feed.js';
import type { LiveDashboard } from '../../tui/live-dashboard.js';
import { loadValidJobsFile } from '../load.js';
import { err, printDiagnostics } from '../output.js';
import type { LogFormat } from '../../observe/logger.js';
import { defaultInstanceId, openRuntime, type Runtime } from './runtime.js';

export interface RunOptions {
  config?: string;
  plugin?: string[];
  instanceId?: string;
  logFormat?: LogFormat;
  tui: boolean;
  /** host:port for /metrics and /healthz (overrides METRICS_ADDR). */
  metrics?: string;
}

export interface RunOutcome {
  /** The signal that stopped the scheduler. */
  signal: NodeJS.Signals;
  /** A second signal cut the drain short. */
  forced: boolean;
}

/** Resolves on the first of SIGINT/SIGTERM; `second` resolves on the one after. `trigger` acts as one (the dashboard's q). */
function signals(): { first: Promise<NodeJS.Signals>; second: Promise<NodeJS.Signals>; trigger(s: NodeJS.Signals): void; dispose(): void } {
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
    trigger: handler,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** The dashboard is for people at a terminal: stdout a TTY, and no explicit wish for plain lines. */
export function wantsDashboard(opts: Pick<RunOptions, 'tui' | 'logFormat'>, stdoutIsTTY = process.stdout.isTTY === true): boolean {
  return stdoutIsTTY && opts.tui && opts.logFormat !== 'json' && process.env.TERM !== 'dumb';
}

export async function run(opts: RunOptions): Promise<RunOutcome> {
  const sig = signals();
  let tail: LogTail | undefined;
  let dashboard: LiveDashboard | undefined;
  let feed: DashboardFeed | undefined;
  let runtime: Runtime | undefined;
  let observers: Observers | undefined;
  let scheduler: Scheduler | undefined;
  let ok = false;
  try {
    const { jobsFile, registry } = await loadValidJobsFile({ config: opts.config, plugins: opts.plugin }, (jf) => printDiagnostics(jf.diagnostics));
    const { settings, jobs } = jobsFile;
    const instance = opts.instanceId ?? defaultInstanceId();
    const tui = wantsDashboard(opts);
    if (tui) {
      const { LogTail } = await import('../../observe/log-tail.js');
      tail = new LogTail();
    }
    const format = tui ? 'json' : (opts.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json'));
    runtime = await openRuntime({ settings, jobs, registry, instance, format, destination: tail, color: process.stdout.isTTY && !process.env.NO_COLOR });
    const { log, store, db } = runtime;
    if (!settings.redisUrl) {
      log.warn({ event: 'single-instance' }, 'REDIS_URL is not set: using in-process locks, so only ONE instance of this jobs file may run');
    }
    const events = new EventBus((e) => log.error({ event: 'sink-failed', err: String(e) }, 'an event listener failed'));
    events.add(new LogSink(log));
    scheduler = new Scheduler({ jobs, registry, store, clock: systemClock, log, events, instance, maxClockSkewMs: settings.maxClockSkewMs, db });
    const { attachObservers } = await import('../../observe/observers.js');
    observers = await attachObservers({ events, scheduler, store, db, settings, jobs, file: jobsFile.file, instance, log, metricsAddr: opts.metrics ?? settings.metricsAddr });
    await scheduler.start();
    observers.start();
    log.info(
      { event: 'started', jobs: jobs.length, file: jobsFile.file, redis: settings.redisUrl ? redactUrl(settings.redisUrl) : null, skewMs: scheduler.skewMs },
      `scheduling ${jobs.length} job${jobs.length === 1 ? '' : 's'} from ${jobsFile.file}`,
    );
    if (tail) {
      // ink colours through chalk, which reads FORCE_COLOR (not NO_COLOR) when it loads.
      if (process.env.NO_COLOR) process.env.FORCE_COLOR = '0';
      const [{ DashboardFeed }, { mountDashboard }] = await Promise.all([import('../../tui/feed.js'), import('../../tui/live-dashboard.js')]);
      feed = new DashboardFeed({
        instance,
        file: jobsFile.file,
        jobs,
        scheduler: scheduler,
        tracker: observers.tracker,
        tail,
        store,
        fleet: observers.fleet,
        redisLabel: settings.redisUrl ? redactUrl(settings.redisUrl) : null,
        db,
        dbLabel: db ? databaseLabel(settings.databaseUrl) : undefined,
      });
      feed.start();
      const f = feed;
      dashboard = mountDashboard({ model: () => f.model(), onQuit: () => sig.trigger('SIGINT') });
    }

    const signal = await sig.first;
    scheduler.stopClaiming();
    const running = scheduler.runningCount;
    if (feed) feed.shutdown = { phase: 'draining', running, deadline: Date.now() + settings.shutdownTimeoutMs, signal };
    dashboard?.refresh();
    log.info({ event: 'shutdown', signal, running, timeoutMs: settings.shutdownTimeoutMs }, running > 0
      ? `${signal}: no new runs; waiting up to ${formatDuration(settings.shutdownTimeoutMs)} for ${running} running job${running === 1 ? '' : 's'} (signal again to abort them)`
      : `${signal}: shutting down`);
    let forced = await Promise.race([scheduler.drain(settings.shutdownTimeoutMs).then(() => false), sig.second.then(() => true)]);
    if (scheduler.runningCount > 0) {
      if (feed) feed.shutdown = { phase: 'aborting', running: scheduler.runningCount, signal };
      dashboard?.refresh();
      log.warn({ event: 'shutdown-abort', running: scheduler.runningCount, forced }, forced ? 'second signal: aborting running jobs' : 'shutdown timeout reached: aborting running jobs');
      scheduler.abort();
      // Aborted runs end quickly (exec children get SIGTERM, then SIGKILL) and release their locks.
      if (!forced) forced = await Promise.race([scheduler.drain(15_000).then(() => false), sig.second.then(() => true)]);
      if (forced) await scheduler.drain(2_000);
    }
    if (feed) feed.shutdown = { phase: 'closing', running: scheduler.runningCount, signal };
    dashboard?.refresh();
    // History, webhooks and the heartbeat's goodbye go out before Redis closes.
    await observers.close();
    observers = undefined;
    feed?.stop();
    await runtime.close();
    runtime = undefined;
    log.info({ event: 'stopped', forced }, 'stopped');
    if (feed) feed.shutdown = { phase: 'stopped', running: 0, signal };
    await dashboard?.stop();
    dashboard = undefined;
    ok = true;
    return { signal, forced };
  } finally {
    sig.dispose();
    if (!ok) {
      // Failed on the way (e.g. the metrics port was taken): stop what started, close what was
      // opened, and show the log lines the dashboard would have shown.
      feed?.stop();
      await dashboard?.stop();
      if (scheduler) {
        scheduler.stopClaiming();
        scheduler.abort();
        await scheduler.drain(5_000);
      }
      await observers?.close();
      await runtime?.close();
      if (tail && !dashboard) for (const l of tail.lines(20)) err(`${l.time} ${l.level} ${l.text}`);
    }
  }
}
