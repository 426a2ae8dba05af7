/**
 * Prometheus metrics through prom-client (imported lazily: only when METRICS_ADDR or --metrics is
 * given). Run events feed counters and histograms; gauges for Redis/database up, clock skew,
 * scheduler liveness, recent slowness (Redis not answering in time, this instance overloaded) and
 * which jobs are paused (one batched read of the pauses per scrape) are read at scrape time. Plus prom-client's default process metrics.
 */
import type { Knex } from 'knex';
import type { CoordinationStore } from '../coordination/store.js';
import { SKIP_REASONS } from '../base/outcomes.js';
import type { EventSink, RunEvent } from '../scheduler/events.js';
import { isRecent, PRESSURE_RECENT_MS, type PressureSnapshot } from '../scheduler/pressure.js';
import type { SchedulerView } from './heartbeat.js';
import { probeDatabase, probeStore, withTimeout } from './probes.js';

/** How a reload of the jobs file went: applied, rejected (with its errors), or unchanged. */
export type ReloadResult = { result: 'applied'; configHash: string } | { result: 'rejected'; errors: number } | { result: 'unchanged' };

export interface Metrics extends EventSink {
  /** The exposition text and its content type. */
  scrape(): Promise<{ contentType: string; body: string }>;
  /** A reload: the jobs paused/last-success gauges follow the new jobs, the reload counters count it. */
  reloaded(r: ReloadResult, jobs: readonly string[]): void;
}

export async function createMetrics(o: {
  store: CoordinationStore;
  db?: Knex;
  scheduler: SchedulerView & { readonly pressure?: PressureSnapshot };
  instance: string;
  /** Each job's last successful run (ms) as the fleet's history knows it, so the gauge survives restarts. */
  lastSuccess?: ReadonlyMap<string, number>;
  /** The jobs of the jobs file, for iamwatch_job_paused. */
  jobs?: readonly string[];
  /** The hash of the configuration running (iamwatch_config_info). */
  configHash?: string;
}): Promise<Metrics> {
  const client = await import('prom-client');
  const registry = new client.Registry();
  registry.setDefaultLabels({ instance_id: o.instance });
  client.collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const runs = new client.Counter({ name: 'iamwatch_runs_total', help: 'Finished runs by job and outcome.', labelNames: ['job', 'outcome'] as const, registers });
  const duration = new client.Histogram({
    name: 'iamwatch_run_duration_seconds',
    help: 'Run duration (all attempts) by job and outcome.',
    labelNames: ['job', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers,
  });
  const lateness = new client.Histogram({
    name: 'iamwatch_start_lateness_seconds',
    help: 'Actual start minus nominal occurrence time, first attempts of scheduled runs.',
    labelNames: ['job'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers,
  });
  const claimsLost = new client.Counter({ name: 'iamwatch_claims_lost_total', help: 'Occurrences claimed by another instance (lock contention).', labelNames: ['job'] as const, registers });
  const skipped = new client.Counter({
    name: 'iamwatch_skipped_occurrences_total',
    help: `Occurrences skipped, by reason (${SKIP_REASONS.join(', ')}).`,
    labelNames: ['job', 'reason'] as const,
    registers,
  });
  const retries = new client.Counter({ name: 'iamwatch_run_retries_total', help: 'Failed attempts retried within an occurrence.', labelNames: ['job'] as const, registers });
  const renewals = new client.Counter({ name: 'iamwatch_lock_renewals_total', help: 'Running-lock renewals, by whether the lock was still held.', labelNames: ['job', 'held'] as const, registers });
  const lockLosses = new client.Counter({ name: 'iamwatch_lock_losses_total', help: 'Runs aborted because their running lock was lost.', labelNames: ['job'] as const, registers });
  const runningGauge = new client.Gauge({ name: 'iamwatch_running_jobs', help: 'Runs in progress on this instance.', registers, collect() { this.set(o.scheduler.runningCount); } });
  new client.Gauge({
    name: 'iamwatch_clock_skew_seconds',
    help: 'Coordination store clock minus this clock (NaN until measured).',
    registers,
    collect() {
      this.set(o.scheduler.skewMs === null ? Number.NaN : o.scheduler.skewMs / 1000);
    },
  });
  new client.Gauge({
    name: 'iamwatch_scheduler_last_tick_age_seconds',
    help: 'Seconds since the scheduler loop last woke up.',
    registers,
    collect() {
      this.set(o.scheduler.lastTick > 0 ? (Date.now() - o.scheduler.lastTick) / 1000 : Number.NaN);
    },
  });
  const pressure = (): PressureSnapshot | undefined => o.scheduler.pressure;
  new client.Gauge({
    name: 'iamwatch_scheduler_wake_lateness_seconds',
    help: 'How late the scheduler loop woke for its latest claim (a busy event loop).',
    registers,
    collect() {
      this.set((pressure()?.wakeLateMs ?? 0) / 1000);
    },
  });
  new client.Gauge({
    name: 'iamwatch_overloaded',
    help: `1 when this instance woke too late to claim or start an occurrence in time within the last ${PRESSURE_RECENT_MS / 1000} s.`,
    registers,
    collect() {
      this.set(isRecent(pressure()?.overloaded?.at, Date.now()) ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'iamwatch_redis_slow',
    help: `1 when Redis gave no answer within a deadline (claim, renewal, skew) within the last ${PRESSURE_RECENT_MS / 1000} s.`,
    registers,
    collect() {
      this.set(isRecent(pressure()?.redisSlow?.at, Date.now()) ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'iamwatch_store_up',
    help: '1 when the coordination store (Redis, or the embedded store) answered within 1 s.',
    registers,
    async collect() {
      this.set((await probeStore(o.store)).ok ? 1 : 0);
    },
  });
  let jobs = o.jobs ?? [];
  new client.Gauge({
    name: 'iamwatch_job_paused',
    help: '1 when the job is paused fleet-wide (iamwatch pause), else 0; absent when the store did not answer within 1 s.',
    labelNames: ['job'] as const,
    registers,
    async collect() {
      this.reset();
      if (jobs.length === 0) return;
      let paused: Set<string>;
      try {
        paused = new Set((await withTimeout(o.store.pauses(jobs), 1_000, 'the coordination store')).keys());
      } catch {
        this.reset();
        return;
      }
      for (const job of jobs) this.set({ job }, paused.has(job) ? 1 : 0);
    },
  });
  const db = o.db;
  new client.Gauge({
    name: 'iamwatch_database_up',
    help: '1 when the database answered within 1 s (absent when no job uses it).',
    registers: db ? registers : [],
    async collect() {
      if (db) this.set((await probeDatabase(db)).ok ? 1 : 0);
    },
  });
  const lastSuccess = new client.Gauge({
    name: 'iamwatch_last_success_timestamp_seconds',
    help: 'When each job last finished a run successfully (anywhere in the fleet at start, then here), Unix seconds. Alert on time() minus its max by job.',
    labelNames: ['job'] as const,
    registers,
  });
  for (const [job, at] of o.lastSuccess ?? []) lastSuccess.set({ job }, at / 1000);
  const missed = new client.Counter({
    name: 'iamwatch_missed_occurrences_total',
    help: 'Occurrences that did not run successfully here: skipped (by reason) or failed (timeout, lock-lost, failed, aborted).',
    labelNames: ['job', 'reason'] as const,
    registers,
  });
  const reloads = new client.Counter({
    name: 'iamwatch_config_reloads_total',
    help: 'Reloads of the jobs file (SIGHUP or a change to the file), by result: applied, rejected (it had errors; the running configuration stays) or unchanged.',
    labelNames: ['result'] as const,
    registers,
  });
  const reloadErrors = new client.Gauge({
    name: 'iamwatch_config_reload_errors',
    help: 'Errors in the jobs file at the last reload that was rejected; 0 once one is applied.',
    registers,
  });
  reloadErrors.set(0);
  const configInfo = new client.Gauge({ name: 'iamwatch_config_info', help: 'Always 1, labelled with the hash of the configuration this instance runs (status shows the fleet\'s).', labelNames: ['hash'] as const, registers });
  if (o.configHash) configInfo.set({ hash: o.configHash }, 1);
  void runningGauge;

  return {
    emit(e: RunEvent): void {
      switch (e.event) {
        case 'run-started':
          if (e.attempt === 1 && !e.manual) lateness.observe({ job: e.job }, e.latenessMs / 1000);
          return;
        case 'run-retry':
          return retries.inc({ job: e.job });
        case 'run-finished':
          runs.inc({ job: e.job, outcome: e.outcome });
          duration.observe({ job: e.job, outcome: e.outcome }, e.durationMs / 1000);
          if (e.outcome === 'lock-lost') lockLosses.inc({ job: e.job });
          if (e.outcome === 'ok') lastSuccess.set({ job: e.job }, e.endedAt / 1000);
          else missed.inc({ job: e.job, reason: e.outcome });
          return;
        case 'occurrence-skipped':
          missed.inc({ job: e.job, reason: e.reason });
          return skipped.inc({ job: e.job, reason: e.reason });
        case 'occurrence-taken':
          return claimsLost.inc({ job: e.job });
        case 'lock-renewed':
          return renewals.inc({ job: e.job, held: String(e.held) });
      }
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    reloaded(r, names) {
      reloads.inc({ result: r.result });
      if (r.result === 'rejected') return reloadErrors.set(r.errors);
      reloadErrors.set(0);
      if (r.result !== 'applied') return;
      configInfo.reset();
      configInfo.set({ hash: r.configHash }, 1);
      // Jobs no longer in the file leave the per-job gauges.
      const kept = new Set(names);
      for (const job of jobs) if (!kept.has(job)) lastSuccess.remove({ job });
      jobs = names;
    },
  };
}
