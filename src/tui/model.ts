/**
 * The dashboard's data: a plain snapshot, built by `run` from the scheduler's public state, the
 * run tracker, heartbeats and probes, and rendered by dashboard.tsx. No React here, so building it
 * costs nothing when the dashboard is off.
 */
import type { Mode } from '../jobsfile/job.js';
import type { TailLine } from '../observe/log-tail.js';
import type { RunRecord } from '../coordination/records.js';

export type JobRowState =
  | { kind: 'idle' }
  | { kind: 'running-here'; since: number }
  | { kind: 'running-elsewhere'; instance: string; since: number }
  | { kind: 'skipped'; reason: string; holder?: string }
  /** Paused fleet-wide (`iamwatch pause`): by user@host, until (ms) or null, why. */
  | { kind: 'paused'; by: string; until: number | null; reason: string | null };

export interface JobRow {
  name: string;
  mode: Mode;
  schedule: string;
  tz: string;
  next: number | null;
  state: JobRowState;
  /** The newest finished run: the fleet's (from the history) when `counts.scope` is 'fleet'. */
  last?: Pick<RunRecord, 'outcome' | 'durationMs' | 'summary' | 'error' | 'instance' | 'at' | 'reason'> & Partial<Pick<RunRecord, 'latenessMs'>>;
  /** Runs ended ok and failed since `counts.since`, on what `counts.scope` says. */
  ok: number;
  failed: number;
}

/** What the ok/failed counts and last runs cover. */
export interface CountsScope {
  /** 'fleet': every instance's runs, from the run history; 'this instance': runs seen here. */
  scope: 'fleet' | 'this instance';
  /** Counted since (ms). */
  since: number;
}

export interface Connection {
  /** Redacted URL, or a description ("embedded store"). */
  label: string;
  /** null: unknown yet or not used. */
  up: boolean | null;
}

export interface ShutdownState {
  phase: 'draining' | 'aborting' | 'closing' | 'stopped';
  running: number;
  /** Drain deadline (ms), while draining. */
  deadline?: number;
  signal: string;
}

export interface DashboardModel {
  now: number;
  instance: string;
  file: string;
  redis: Connection;
  database: Connection | null;
  skewMs: number | null;
  instances: Array<{ instance: string; lastBeat: number; skewMs: number | null; self: boolean; running: number }>;
  jobs: JobRow[];
  /** What the jobs' counts cover (absent: this instance, since it started). */
  counts?: CountsScope;
  /** Jobs of this file paused fleet-wide (absent: unknown). */
  paused?: number;
  shutdown: ShutdownState | null;
  logs: TailLine[];
}
