/** What the jobs file parses to. */
import { jitterOffset } from '../schedule/jitter.js';
import type { Schedule, ScheduleExpr } from '../schedule/schedule.js';
import type { OptionDecls, OptionValue } from './options.js';
import type { Settings } from './settings.js';

export const MODES = ['cron', 'interval', 'rate'] as const;
export type Mode = (typeof MODES)[number];

export interface JobSpec {
  name: string;
  watcher: string;
  mode: Mode;
  schedule: ScheduleExpr;
  tz: string;
  timeoutMs?: number;
  overlap: 'allow' | 'skip';
  misfire: 'skip' | 'once';
  retries: number;
  retryDelayMs: number;
  lockTtlMs: number;
  /** `jitter=`: each start is delayed by a stable offset in [0, jitterMs); 0 for none. */
  jitterMs: number;
  dryRun: boolean;
  /** enabled=false: kept in the file, never scheduled (`once` still runs it). */
  enabled: boolean;
  notify?: string;
  notifyOn: 'failure' | 'always';
  /** Check-in ping URL (`ping=`) and the form of its URLs. */
  ping?: string;
  pingStyle: 'healthchecks' | 'cronitor';
  /** The watcher's own options, validated against its declarations, defaults filled in. */
  options: Record<string, OptionValue>;
  /** Crontab variables in effect at this line (they reach exec commands' environment). */
  env: Record<string, string>;
  line: number;
  col: number;
}

export interface Diagnostic {
  file: string;
  /** 1-based; 0 for a problem that is not at a line of the file (a setting from the environment). */
  line: number;
  col: number;
  severity: 'error' | 'warning';
  message: string;
}

export interface JobsFile {
  file: string;
  jobs: JobSpec[];
  settings: Settings;
  /** Every variable line, in order of last assignment. */
  variables: Record<string, string>;
  diagnostics: Diagnostic[];
}

/**
 * When an occurrence of `job` starts: its nominal time plus the job's jitter offset for that
 * occurrence id (for cron and rate the id is the nominal time; for interval, the generation).
 */
export function jitteredStart(job: Pick<JobSpec, 'name' | 'jitterMs'>, occurrence: number, nominal = occurrence): number {
  return nominal + jitterOffset(job.name, occurrence, job.jitterMs);
}

/**
 * The first cron or rate occurrence of `job` (on `schedule`) whose jittered start is strictly after
 * `after`, with that start; null when none. An occurrence up to the jitter before `after` may still
 * start after it; since the parser keeps jitter within the shortest gap, at most one is passed over.
 */
export function nextStart(job: Pick<JobSpec, 'name' | 'jitterMs'>, schedule: Schedule, after: number): { occurrence: number; startAt: number } | null {
  for (let t = schedule.next(after - job.jitterMs); t !== null; t = schedule.next(t)) {
    const startAt = jitteredStart(job, t);
    if (startAt > after) return { occurrence: t, startAt };
  }
  return null;
}

/** What the parser needs to know of watchers: their names and option declarations. */
export interface WatcherCatalog {
  get(name: string): { options: OptionDecls } | undefined;
  names(): string[];
}

/** `FILE:LINE:COL: severity: message`; a problem with no line (a setting from the environment) is `FILE: severity: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  return d.line === 0 ? `${d.file}: ${d.severity}: ${d.message}` : `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`;
}

export const hasErrors = (diagnostics: readonly Diagnostic[]): boolean => diagnostics.some((d) => d.severity === 'error');
