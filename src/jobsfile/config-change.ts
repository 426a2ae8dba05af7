/**
 * What a reload of the jobs file changes, worked out from the running configuration and the new
 * one (pure): which jobs were added, removed or changed (a job's definition is everything but
 * where its line is), which changed settings can take effect live and which need a restart, and
 * the hash of a configuration that instances publish so `status` shows a fleet running different
 * ones.
 */
import { createHash } from 'node:crypto';
import type { JobSpec } from './job.js';
import type { Settings } from './settings.js';

/** A configuration as it runs: its settings and its jobs. */
export interface RunningConfig {
  settings: Settings;
  jobs: readonly JobSpec[];
}

export interface JobsChange {
  added: JobSpec[];
  removed: JobSpec[];
  /** Same name, another definition: the new one applies from the job's next occurrence. */
  changed: Array<{ before: JobSpec; after: JobSpec }>;
  unchanged: number;
}

/** Settings a running instance picks up from a reload; every other one needs a restart. */
const LIVE_SETTINGS = new Set<keyof Settings>(['notifyUrl', 'shutdownTimeoutMs']);

/** The settings' names as written in a jobs file, for messages. */
const SETTING_NAMES: Record<keyof Settings, string> = {
  redisUrl: 'REDIS_URL',
  redisTls: 'REDIS_TLS_CA / REDIS_TLS_CERT / REDIS_TLS_KEY / REDIS_TLS_SERVERNAME',
  databaseUrl: 'DATABASE_URL',
  prefix: 'IAMWATCH_PREFIX',
  logLevel: 'IAMWATCH_LOG_LEVEL',
  plugins: 'PLUGINS',
  pluginTimeoutMs: 'PLUGIN_TIMEOUT',
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT',
  maxClockSkewMs: 'MAX_CLOCK_SKEW',
  historyLimit: 'HISTORY_LIMIT',
  historyMaxAgeMs: 'HISTORY_MAX_AGE',
  metricsAddr: 'METRICS_ADDR',
  notifyUrl: 'NOTIFY_URL',
};

/** JSON with object keys sorted, so equal values give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** A job's definition: everything that decides how it runs (not where its line is in the file). */
export function jobDefinition(job: JobSpec): string {
  const { line: _line, col: _col, ...definition } = job;
  return canonicalJson(definition);
}

export function diffJobs(before: readonly JobSpec[], after: readonly JobSpec[]): JobsChange {
  const old = new Map(before.map((j) => [j.name, j]));
  const change: JobsChange = { added: [], removed: [], changed: [], unchanged: 0 };
  for (const job of after) {
    const was = old.get(job.name);
    old.delete(job.name);
    if (!was) change.added.push(job);
    else if (jobDefinition(was) !== jobDefinition(job)) change.changed.push({ before: was, after: job });
    else change.unchanged++;
  }
  change.removed = [...old.values()];
  return change;
}

export interface SettingsChange {
  /** The settings to run with: the new live ones, the running values of the rest. */
  settings: Settings;
  /** Changed live settings, by name. */
  applied: string[];
  /** Changed settings that keep their running value until a restart, by name. */
  needRestart: string[];
}

export function diffSettings(running: Settings, next: Settings): SettingsChange {
  const settings = { ...running };
  const applied: string[] = [];
  const needRestart: string[] = [];
  for (const key of Object.keys(SETTING_NAMES) as Array<keyof Settings>) {
    if (canonicalJson(running[key]) === canonicalJson(next[key])) continue;
    if (LIVE_SETTINGS.has(key)) {
      (settings as Record<string, unknown>)[key] = next[key];
      applied.push(SETTING_NAMES[key]);
    } else {
      needRestart.push(SETTING_NAMES[key]);
    }
  }
  return { settings, applied, needRestart };
}

/** The hash instances publish of the configuration they run (12 hex digits of a SHA-256). */
export function configHash(config: RunningConfig): string {
  const jobs = [...config.jobs].sort((a, b) => (a.name < b.name ? -1 : 1)).map(jobDefinition);
  return createHash('sha256').update(canonicalJson(config.settings)).update('\n').update(jobs.join('\n')).digest('hex').slice(0, 12);
}
