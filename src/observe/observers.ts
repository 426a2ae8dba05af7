/**
 * Everything that watches a running scheduler, attached as event sinks or read-only observers:
 * run history, the run tracker, heartbeats, failure webhooks and the metrics/health endpoint.
 * The scheduler knows none of them. `close()` flushes what is in flight (bounded) and must run
 * before Redis is closed.
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
import type { Logger } from '../base/logger.js';
import { NotifySink } from './notify.js';
import { RunTracker } from './run-tracker.js';

export interface Observers {
  fleet: FleetStore;
  tracker: RunTracker;
  /** The metrics endpoint's bound address, when enabled. */
  metricsAddress?: string;
  /** Starts heartbeats: call once the scheduler has started. */
  start(): void;
  close(): Promise<void>;
}

export interface Recorders {
  fleet: FleetStore;
  /** Waits (bounded) for history writes and webhook deliveries in flight. */
  flush(): Promise<void>;
}

/**
 * The sinks that record what happened to every run, whoever started it (`run` or `once`): run
 * history, and webhooks when a job asks for them.
 */
export function attachRecorders(o: { events: EventBus; store: CoordinationStore; settings: Settings; jobs: readonly JobSpec[]; file: string; log: Logger }): Recorders {
  const fleet = o.store.fleet(retentionOf(o.settings));
  const history = new HistorySink(fleet, o.log);
  o.events.add(history);
  const notify = NotifySink.wanted(o.jobs, o.settings.notifyUrl) ? new NotifySink({ jobs: o.jobs, defaultUrl: o.settings.notifyUrl, log: o.log }) : null;
  if (notify) o.events.add(notify);
  return {
    fleet,
    flush: async () => {
      await Promise.all([history.flush(3_000), notify?.flush(10_000)]);
    },
  };
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
  metricsAddr?: string;
}): Promise<Observers> {
  const tracker = new RunTracker();
  o.events.add(tracker);
  const { fleet, flush } = attachRecorders(o);
  let server: { address: string; close(): Promise<void> } | undefined;
  if (o.metricsAddr) {
    const [{ createMetrics }, { startObserveServer }] = await Promise.all([import('./metrics.js'), import('./http-server.js')]);
    const metrics = await createMetrics({ store: o.store, db: o.db, scheduler: o.scheduler, instance: o.instance });
    o.events.add(metrics);
    server = await startObserveServer(o.metricsAddr, { metrics, health: () => checkHealth({ scheduler: o.scheduler, store: o.store }) });
    o.log.info({ event: 'metrics', address: server.address }, `metrics on http://${server.address}/metrics, health on /healthz`);
  }
  const heartbeat = new HeartbeatPublisher({ fleet, instance: o.instance, jobs: o.jobs.length, scheduler: o.scheduler, tracker, log: o.log });
  return {
    fleet,
    tracker,
    metricsAddress: server?.address,
    start: () => heartbeat.start(),
    async close() {
      await Promise.all([flush(), heartbeat.stop(2_000)]);
      await server?.close();
    },
  };
}
