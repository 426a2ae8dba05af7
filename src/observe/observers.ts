/**
 * Everything that watches runs, attached as event sinks or read-only observers: log lines, the
 * run tracker, run history, failure webhooks, metrics and the health endpoint, and (for a
 * scheduling instance) heartbeats. `run` and `once` attach the same set, so a run is logged,
 * recorded, measured and notified the same way whoever started it. The scheduler knows none of
 * them. `close()` flushes what is in flight (bounded) and must run before Redis is closed.
 */
import type { Knex } from 'knex';
import type { CoordinationStore } from '../coordination/store.js';
import type { JobSpec } from '../jobsfile/job.js';
import type { Settings } from '../jobsfile/settings.js';
import type { EventBus } from '../scheduler/events.js';
import { retentionOf, type FleetStore } from '../coordination/fleet-store.js';
import { checkHealth, type HealthDeps } from './health.js';
import { HeartbeatPublisher } from './heartbeat.js';
import { HistorySink } from './history-sink.js';
import { withTimeout } from './probes.js';
import { errorMessage } from '../base/errors.js';
import type { Logger } from '../base/logger.js';
import { LogSink } from './log-sink.js';
import type { Metrics, ReloadResult } from './metrics.js';
import { NotifySink } from './notify.js';
import { PingSink } from './pings.js';
import { RunTracker } from './run-tracker.js';

export interface Observers {
  fleet: FleetStore;
  tracker: RunTracker;
  /** The metrics, when served. */
  metrics?: Metrics;
  /** The metrics endpoint's bound address, when enabled. */
  metricsAddress?: string;
  /** Starts heartbeats: call once the scheduler has started. */
  start(): void;
  /** A reload of the jobs file was applied, rejected or found unchanged: every observer follows it. */
  reloaded(r: ReloadResult, config?: { jobs: readonly JobSpec[]; settings: Settings }): void;
  close(): Promise<void>;
}

/** Each job's newest successful run in the fleet's history (bounded: it must not delay the start). */
async function lastSuccesses(fleet: FleetStore, jobs: readonly JobSpec[], log: Logger): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  try {
    await withTimeout(
      Promise.all(
        jobs.map(async (job) => {
          const ok = (await fleet.history(job.name, 50)).find((r) => r.outcome === 'ok');
          if (ok) found.set(job.name, ok.endedAt ? Date.parse(ok.endedAt) : ok.at);
        }),
      ),
      3_000,
      'the run history',
    );
  } catch (err) {
    log.warn({ event: 'last-success-unknown', err: errorMessage(err) }, 'could not read the last successful runs from the history; iamwatch_last_success_timestamp_seconds starts empty');
  }
  return found;
}

export async function attachObservers(o: {
  events: EventBus;
  scheduler: HealthDeps['scheduler'];
  store: CoordinationStore;
  db?: Knex;
  settings: Settings;
  jobs: readonly JobSpec[];
  file: string;
  instance: string;
  log: Logger;
  /** Serve /metrics and /healthz here. */
  metricsAddr?: string;
  /** Publish this instance's heartbeat (a scheduling instance; not `once`). */
  heartbeat?: boolean;
  /** The hash of the configuration running (config-change.ts), in heartbeats and metrics. */
  configHash?: string;
}): Promise<Observers> {
  o.events.add(new LogSink(o.log));
  const tracker = new RunTracker();
  o.events.add(tracker);
  const fleet = o.store.fleet(retentionOf(o.settings));
  const history = new HistorySink(fleet, o.log);
  o.events.add(history);
  // Both are attached even when no job uses them: a reload may add notify= or ping=.
  const notify = new NotifySink({ jobs: o.jobs, defaultUrl: o.settings.notifyUrl, log: o.log });
  o.events.add(notify);
  const pings = new PingSink(o.jobs, o.log);
  o.events.add(pings);
  let server: { address: string; close(): Promise<void> } | undefined;
  let metrics: Metrics | undefined;
  if (o.metricsAddr) {
    const [{ createMetrics }, { startObserveServer }] = await Promise.all([import('./metrics.js'), import('./http-server.js')]);
    metrics = await createMetrics({ store: o.store, db: o.db, scheduler: o.scheduler, instance: o.instance, lastSuccess: await lastSuccesses(fleet, o.jobs, o.log), jobs: o.jobs.map((j) => j.name), configHash: o.configHash });
    o.events.add(metrics);
    server = await startObserveServer(o.metricsAddr, { metrics, health: () => checkHealth({ scheduler: o.scheduler, store: o.store }), scheduler: o.scheduler });
    o.log.info({ event: 'metrics', address: server.address }, `metrics on http://${server.address}/metrics, health on /healthz`);
  }
  const heartbeat = o.heartbeat === false ? null : new HeartbeatPublisher({ fleet, instance: o.instance, jobs: o.jobs.length, configHash: o.configHash, scheduler: o.scheduler, tracker, log: o.log });
  return {
    fleet,
    tracker,
    metrics,
    metricsAddress: server?.address,
    start: () => heartbeat?.start(),
    reloaded(r, config) {
      if (r.result === 'applied' && config) {
        notify.reconfigure(config.jobs, config.settings.notifyUrl);
        pings.reconfigure(config.jobs);
        heartbeat?.reconfigure(config.jobs.length, r.configHash);
      }
      metrics?.reloaded(r, config ? config.jobs.map((j) => j.name) : []);
    },
    async close() {
      await Promise.all([history.flush(3_000), notify.flush(10_000), pings.flush(5_000), heartbeat?.stop(2_000)]);
      await server?.close();
    },
  };
}
