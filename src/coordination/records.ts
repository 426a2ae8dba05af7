/**
 * What the fleet writes about itself so `status`, `history` and the dashboard can show it from any
 * machine: run records (stored as JSON with ISO-8601 times) and instance heartbeats, and how both
 * are read back. Parsing is defensive: a torn write or a foreign key reads as null.
 */
import type { Outcome, SkipReason } from '../base/outcomes.js';
import { redactDeep } from '../base/redact.js';

export type RecordOutcome = Outcome | 'skipped';

export interface RunRecord {
  job: string;
  mode: 'cron' | 'interval' | 'rate';
  /** How the occurrence is shown: nominal ISO time for cron/rate, `gen:N` for interval. */
  occurrence: string;
  /** Nominal time of the occurrence (interval: when the run was planned to start). */
  nominal: string;
  instance: string;
  /** Fencing token of the run; null for skipped occurrences. */
  fence: number | null;
  outcome: RecordOutcome;
  /** Set when outcome is `skipped`. */
  reason?: SkipReason;
  /** overlap skips: the instance whose run was in progress. */
  holder?: string;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  /** Actual start minus nominal time. */
  latenessMs: number | null;
  attempts: number;
  manual: boolean;
  /** A manual run (`once`, `trigger`): who asked for it, user@host. */
  by?: string;
  summary?: string;
  error?: string;
  /** When the record was written (ms epoch): ordering and retention. */
  at: number;
}

/** Outcomes `history --failed` shows: the run did not complete its work. */
export const isFailure = (r: RunRecord): boolean => r.outcome !== 'ok' && r.outcome !== 'skipped';

/** Parses a stored record; null for anything malformed (a torn write, a foreign key). */
export function parseRecord(text: unknown): RunRecord | null {
  if (typeof text !== 'string') return null;
  try {
    const r = JSON.parse(text) as RunRecord;
    return typeof r === 'object' && r !== null && typeof r.job === 'string' && typeof r.at === 'number' ? redactDeep(r) : null;
  } catch {
    return null;
  }
}

/** A run in progress on an instance, as its heartbeat announces it. */
export interface RunningEntry {
  job: string;
  occurrence: string;
  fence: number;
  startedAt: number;
}

export interface Heartbeat {
  instance: string;
  host: string;
  pid: number;
  version: string;
  startedAt: number;
  lastBeat: number;
  /** Coordination store clock minus this instance's clock (ms); null until measured. */
  skewMs: number | null;
  jobs: number;
  /** The hash of the configuration it runs (settings and jobs), so drift across the fleet shows; null from older versions. */
  configHash: string | null;
  state: 'running' | 'draining';
  running: RunningEntry[];
}

export function parseHeartbeat(text: unknown): Heartbeat | null {
  if (typeof text !== 'string') return null;
  try {
    const h = JSON.parse(text) as Heartbeat;
    if (typeof h !== 'object' || h === null || typeof h.instance !== 'string' || typeof h.lastBeat !== 'number') return null;
    return { ...h, configHash: typeof h.configHash === 'string' ? h.configHash : null };
  } catch {
    return null;
  }
}

/** Newest first; ties broken by instance so the order is stable. */
export const newestFirst = (a: RunRecord, b: RunRecord): number => b.at - a.at || a.job.localeCompare(b.job) || a.instance.localeCompare(b.instance);
