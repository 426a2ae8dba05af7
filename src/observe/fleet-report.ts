/**
 * The shapes `status` and `history` report (as JSON, and to the terminal views): run records with
 * ISO-8601 times, each job's next occurrence, last run, holders and pause, and the live instances.
 */
import type { RunRecord } from '../coordination/records.js';
import type { Pause } from '../coordination/store.js';
import type { Mode } from '../jobsfile/job.js';

/** A run record as printed: `time` (ISO-8601) in place of the stored `at` (ms). */
export type PresentedRecord = Omit<RunRecord, 'at'> & { time: string };

export function presentRecord(r: RunRecord): PresentedRecord {
  const { at, ...rest } = r;
  return { ...rest, time: new Date(at).toISOString() };
}

/** A job's pause as printed (`status`, `pause`, `resume`): ISO-8601 times (UTC). */
export interface PauseStatus {
  /** Who paused it: user@host. */
  by: string;
  /** Since when (the store's clock). */
  at: string;
  /** When it lifts itself; null: until `iamwatch resume`. */
  until: string | null;
  reason: string | null;
}

export function presentPause(p: Pause): PauseStatus {
  return { by: p.by, at: new Date(p.at).toISOString(), until: p.until === null ? null : new Date(p.until).toISOString(), reason: p.reason };
}

export interface RunningStatus {
  instance: string;
  occurrence: string;
  startedAt: string;
  /** When the running lock expires unless renewed (null: read from a heartbeat). */
  expiresAt: string | null;
  manual: boolean;
}

export interface JobStatus {
  name: string;
  watcher: string;
  mode: Mode;
  schedule: string;
  tz: string;
  /** false: enabled=false, never scheduled. */
  enabled: boolean;
  /** Next occurrence, ISO-8601 in the job's zone; null when none is known. */
  next: string | null;
  /** Why `next` is what it is, for interval jobs. */
  nextNote?: string;
  lastRun: PresentedRecord | null;
  running: RunningStatus[];
  /** Paused fleet-wide (`iamwatch pause`): its occurrences are consumed as skipped; null when not. */
  paused: PauseStatus | null;
}

export interface InstanceStatus {
  instance: string;
  host: string;
  pid: number;
  version: string;
  state: 'running' | 'draining';
  startedAt: string;
  lastBeat: string;
  /** How long ago the last heartbeat was, by this machine's clock. */
  ageMs: number;
  skewMs: number | null;
  jobs: number;
  /** The hash of the configuration it runs (settings and job definitions); null from an older iamwatch. */
  configHash: string | null;
  running: Array<{ job: string; occurrence: string; fence: number; startedAt: string }>;
}

/** Which live instances run which configuration: `drift` when they run more than one. */
export interface ConfigStatus {
  drift: boolean;
  configurations: Array<{ hash: string | null; instances: string[] }>;
}

export function configStatus(instances: readonly Pick<InstanceStatus, 'instance' | 'configHash'>[]): ConfigStatus {
  const by = new Map<string | null, string[]>();
  for (const i of instances) by.set(i.configHash, [...(by.get(i.configHash) ?? []), i.instance]);
  const configurations = [...by].map(([hash, names]) => ({ hash, instances: names.sort() })).sort((a, b) => b.instances.length - a.instances.length || String(a.hash).localeCompare(String(b.hash)));
  return { drift: configurations.length > 1, configurations };
}

export interface StatusReport {
  file: string;
  now: string;
  coordination: { kind: 'redis' | 'embedded'; location: string; label: string; prefix: string | null };
  jobs: JobStatus[];
  instances: InstanceStatus[];
  config: ConfigStatus;
}
