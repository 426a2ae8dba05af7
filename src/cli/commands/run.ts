/**
 * `iamwatch run`: schedule every job until SIGINT or SIGTERM.
 * SIGHUP, or a change to the jobs file (config-watch.ts), reloads it (reload.ts): validated first,
 * applied live when valid, logged and counted when not.
 * First stop signal: stop claiming, let running jobs finish up to SHUTDOWN_TIMEOUT (locks still
 * renewed), then abort what remains (each run stops within its watcher's abort grace or is
 * abandoned), release every lock, close Redis then the database, exit 0.
 * Second signal: abandon running jobs at once, release their locks, exit 128 + the signal.
 * An error that is not a watcher's (an iamwatch bug) is handled like a second signal, then
 * rethrown so the command exits 70 after its locks are released.
 * On a terminal (unless --no-tui or --log-format json) the ink dashboard owns stdout, log lines
 * go to its tail, and `q` / Ctrl-C act as SIGINT. Observers (history, heartbeats, metrics and
 * health, webhooks) are attached as event sinks and flushed before Redis is closed.
 */
import { databaseLabel } from '../../db/connect.js';
import { errorMessage } from '../../base/errors.js';
import { stateDir } from '../../coordination/embedded/state-dir.js';
import type { LogTail } from '../../observe/log-tail.js';
import type { Observers } from '../../observe/observers.js';
import { redactUrl } from '../../base/redact.js';
import { systemClock } from '../../scheduler/clock.js';
import { EventBus } from '../../scheduler/events.js';
import { Scheduler } from '../../scheduler/scheduler.js';
import { formatDuration } from '../../schedule/duration.js';
import type { DashboardFeed } from '../../tui/feed.js';
import type { LiveDashboard } from '../../tui/live-dashboard.js';
import { configHash } from '../../jobsfile/config-change.js';
import { fileIdentity, watchConfig, type ConfigWatch } from '../config-watch.js';
import { configFrom, configPath, loadValidJobsFile } from '../load.js';
import { guardProcess, type ProcessGuard } from '../process-guard.js';
import { Reloader } from '../reload.js';
import { reloadSignal, stopSignals } from '../signals.js';
import { interactiveTerminal } from '../terminal.js';
import { err, printDiagnostics, useColor } from '../output.js';
import type { LogFormat } from '../../observe/logger.js';
import { defaultInstanceId, openRuntime, type Runtime } from './runtime.js';

/** How long releasing the locks of abandoned runs may take before Redis is closed anyway. */
const RELEASE_WAIT_MS = 3_000;
/** A bound on the abort grace of any run (exec's kill-grace is at most 10 min), so the wait always ends. */
const ABORT_WAIT_MS = 11 * 60_000;

export interface RunOptions {
  config?: string;
  plugin?: string[];
  instanceId?: string;
  logFormat?: LogFormat;
  tui: boolean;
  /** host:port for /metrics and /healthz (overrides METRICS_ADDR). */
  metrics?: string;
  allowWritableConfig?: boolean;
}

export interface RunOutcome {
  /** The signal that stopped the scheduler. */
  signal: NodeJS.Signals;
  /** A second signal cut the drain short. */
  forced: boolean;
}

/** The dashboard is for people at a terminal (stdin and stdout), without an explicit wish for plain lines. */
export function wantsDashboard(opts: Pick<RunOptions, 'tui' | 'logFormat'>, interactive = interactiveTerminal()): boolean {
  return interactive && opts.tui && opts.logFormat !== 'json';
}

export async function run(opts: RunOptions): Promise<RunOutcome> {
  const sig = stopSignals(['SIGINT', 'SIGTERM']);
  // SIGHUP reloads; one that comes while starting is kept for when the reloader is ready.
  let reloader: Reloader | undefined;
  let hupWhileStarting = false;
  const disposeHup = reloadSignal(() => (reloader ? void reloader.request('SIGHUP') : (hupWhileStarting = true)));
  let configWatch: ConfigWatch | undefined;
  let tail: LogTail | undefined;
  let dashboard: LiveDashboard | undefined;
  let feed: DashboardFeed | undefined;
  let runtime: Runtime | undefined;
  let observers: Observers | undefined;
  let scheduler: Scheduler | undefined;
  let guard: ProcessGuard | undefined;
  let ok = false;
  try {
    // The file's identity before it is read: an edit made while starting is reloaded at once.
    const readAs = await fileIdentity(configPath(opts.config));
    const { jobsFile, registry } = await loadValidJobsFile(configFrom(opts), (jf) => printDiagnostics(jf.diagnostics));
    const { settings, jobs } = jobsFile;
    const instance = opts.instanceId ?? defaultInstanceId();
    const tui = wantsDashboard(opts);
    if (tui) {
      const { LogTail } = await import('../../observe/log-tail.js');
      tail = new LogTail();
    }
    const format = tui ? 'json' : (opts.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json'));
    runtime = await openRuntime({ file: jobsFile.file, settings, jobs, registry, instance, format, destination: tail, color: useColor(process.stdout) });
    const { log, store, db } = runtime;
    guard = guardProcess(log);
    if (!settings.redisUrl) {
      log.warn({ event: 'single-instance', stateDir: stateDir(jobsFile.file) }, `REDIS_URL is not set: coordinating through the embedded store in ${stateDir(jobsFile.file)}; only iamwatch processes on this machine share it`);
    }
    const events = new EventBus((e) => log.error({ event: 'sink-failed', err: errorMessage(e) }, 'an event listener failed'));
    scheduler = new Scheduler({ jobs, registry, store, clock: systemClock, log, events, instance, maxClockSkewMs: settings.maxClockSkewMs, db });
    const { attachObservers } = await import('../../observe/observers.js');
    const hash = configHash({ settings, jobs });
    observers = await attachObservers({ events, scheduler, store, db, settings, jobs, file: jobsFile.file, instance, log, metricsAddr: opts.metrics ?? settings.metricsAddr, configHash: hash });
    await scheduler.start();
    observers.start();
    const live = { scheduler, observers };
    reloader = new Reloader({
      file: jobsFile.file,
      registry,
      allowWritable: opts.allowWritableConfig,
      running: { settings, jobs },
      log,
      apply: (next) => live.scheduler.reconfigure(next.change),
      // The database is opened at start, for the jobs that need one.
      refuse: (next) => {
        const needing = db ? [] : next.jobs.filter((j) => registry.get(j.watcher)?.database).map((j) => j.name);
        return needing.length === 0 ? null : `${needing.join(', ')} need${needing.length === 1 ? 's' : ''} the database (DATABASE_URL), which this instance opens only at start, for jobs that use it: restart to add ${needing.length === 1 ? 'it' : 'them'}`;
      },
      onResult: (r, config) => live.observers.reloaded(r, config),
    });
    const r = reloader;
    configWatch = watchConfig(jobsFile.file, readAs, () => void r.request('file changed'));
    if (hupWhileStarting) void reloader.request('SIGHUP');
    log.info(
      { event: 'started', jobs: jobs.length, file: jobsFile.file, redis: settings.redisUrl ? redactUrl(settings.redisUrl) : null, skewMs: scheduler.skewMs, configHash: hash },
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

    const stop = await Promise.race([sig.first.then((signal) => ({ signal, crash: undefined })), guard.crashed.then((crash) => ({ signal: 'SIGTERM' as NodeJS.Signals, crash }))]);
    const { signal } = stop;
    configWatch.close();
    // A reload still reading or parsing (a hung mount) is let be: it applies nothing from now on.
    void reloader.stop();
    scheduler.stopClaiming();
    const running = scheduler.runningCount;
    // SHUTDOWN_TIMEOUT as the last reload left it.
    const { shutdownTimeoutMs } = reloader.running.settings;
    if (stop.crash === undefined) {
      if (feed) feed.shutdown = { phase: 'draining', running, deadline: Date.now() + shutdownTimeoutMs, signal };
      dashboard?.refresh();
      log.info({ event: 'shutdown', signal, running, timeoutMs: shutdownTimeoutMs }, running > 0
        ? `${signal}: no new runs; waiting up to ${formatDuration(shutdownTimeoutMs)} for ${running} running job${running === 1 ? '' : 's'} (signal again to abort them)`
        : `${signal}: shutting down`);
    }
    const cutShort = Promise.race([sig.second, guard.crashed]).then(() => true);
    // Drain: running jobs finish on their own, up to SHUTDOWN_TIMEOUT, locks still renewed.
    let forced = stop.crash !== undefined || (await Promise.race([scheduler.drain(shutdownTimeoutMs).then(() => false), cutShort]));
    if (scheduler.runningCount > 0) {
      if (feed) feed.shutdown = { phase: 'aborting', running: scheduler.runningCount, signal };
      dashboard?.refresh();
      log.warn({ event: 'shutdown-abort', running: scheduler.runningCount, forced }, forced ? 'aborting running jobs now' : 'shutdown timeout reached: aborting running jobs');
      // Aborted runs stop within their watcher's abort grace (exec: kill-grace) or are abandoned;
      // either way each releases its lock as it ends. A second signal abandons them at once.
      scheduler.abort(forced);
      if (!forced) forced = await Promise.race([scheduler.drain(ABORT_WAIT_MS).then(() => false), cutShort]);
      if (forced) scheduler.abort(true);
      await scheduler.drain(RELEASE_WAIT_MS);
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
    if (stop.crash !== undefined) throw stop.crash;
    return { signal, forced };
  } finally {
    sig.dispose();
    disposeHup();
    configWatch?.close();
    guard?.dispose();
    if (!ok) {
      // Failed on the way (e.g. the metrics port was taken): stop what started, close what was
      // opened, and show the log lines the dashboard would have shown.
      feed?.stop();
      await dashboard?.stop();
      if (scheduler) {
        scheduler.stopClaiming();
        scheduler.abort(true);
        await scheduler.drain(RELEASE_WAIT_MS);
      }
      await observers?.close();
      await runtime?.close();
      if (tail && !dashboard) for (const l of tail.lines(20)) err(`${l.time} ${l.level} ${l.text}`);
    }
  }
}
