/** What the jobs file parses to. */
import type { ScheduleExpr } from '../schedule/schedule.js';
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
  dryRun: boolean;
  notify?: string;
  notifyOn: 'failure' | 'always';
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
