/**
 * One attempt to run an occurrence, as it passes through the pipeline (pipeline.ts): who it is
 * for, and what the gates learned on the way (the lease the claim took, the generation an
 * interval claim assigned). A plain mutable record: one is made per occurrence.
 */
import type { SkipReason } from '../base/outcomes.js';
import type { Holder } from '../coordination/store.js';
import type { JobSpec } from '../jobsfile/job.js';

/** A held running lock: released (by token) when the run ends. */
export interface Lease {
  token: string;
  fence: number;
  /** An interval run: its end is recorded at release, so the next one starts an interval later. */
  interval: boolean;
}

export interface Attempt {
  job: JobSpec;
  /** Occurrence id: nominal ms (cron, rate), generation (interval: set by its claim), start ms (manual). */
  id: number;
  /** Nominal start time (ms), handed to the watcher as ctx.occurrence. */
  nominal: number;
  /**
   * When the run is to start: the nominal time plus the job's jitter offset for this occurrence
   * (jitter=). Claim-ahead planning, the on-time gates and lateness go by it; absent: `nominal`.
   */
  startAt?: number;
  /** Started by a person or another instance (`once`, a trigger), not by the schedule. */
  manual: boolean;
  /** A manual run: who asked for it (user@host), when known. */
  by?: string;
  /** When the timeline woke for the claim (scheduled cron and rate runs); null otherwise. */
  claimAt: number | null;
  /** The latest start this occurrence may have (MAX_START_DELAY_MS after nominal), or null: no limit. */
  startBy: number | null;
  /** Set by the gate that took the running lock; null for a run without one (`once --no-lock`). */
  lease: Lease | null;
  dryRun: boolean;
}

/** When an attempt is to start: its jittered start, else its nominal time. */
export const startOf = (a: Pick<Attempt, 'nominal' | 'startAt'>): number => a.startAt ?? a.nominal;

/** What a gate decides about an attempt. */
export type GateVerdict =
  | { kind: 'pass' }
  /** Not run, recorded as a skipped occurrence with its reason. */
  | { kind: 'skip'; reason: SkipReason; detail?: string; holder?: string; lateMs?: number }
  /** Claimed by another run (normal in a fleet). */
  | { kind: 'taken' }
  /** A manual run: the job's running lock is held elsewhere. */
  | { kind: 'held'; holder: Holder | null }
  /** Not yet (an interval run not due, or running elsewhere): try again in `ms`. */
  | { kind: 'defer'; ms: number };

/** One step before the run: it passes the attempt on, or stops it with a verdict. */
export type Gate = (a: Attempt) => GateVerdict | Promise<GateVerdict>;

export const PASS: GateVerdict = Object.freeze({ kind: 'pass' });
