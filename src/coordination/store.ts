import type { FleetStore, Retention } from './fleet-store.js';
import type { TriggerQueue } from './triggers.js';

/**
 * The coordination store: the only thing instances share. Two one-way doors and one lock:
 * - claims: an occurrence id (nominal time in ms) can be claimed once, ever; ids older than
 *   the newest claim minus a window are refused as late, so trimming old claims never reopens one;
 * - interval generations: the next interval run may start only `interval` after the previous one
 *   ended, measured on the store's clock, and only when no run of the job is in progress;
 * - running locks: one per run, with a deadline renewed while the run lasts, released by token.
 * Releasing a running lock never touches claims, so it can't reopen an occurrence.
 * Pauses (`iamwatch pause`) are enforced inside those same steps: a paused cron or rate
 * occurrence is consumed (claimed, never run, answered `paused`), an interval claim and `once`'s
 * lock are refused `paused`; a pause whose `until` passed (on the store's clock) is gone.
 * Fences and interval generations never go backwards, even when the store lost its data: each new
 * one is at least the store's clock (fence: ms x 1000, generation: ms).
 * Implementations: redis/redis-store.ts (a fleet) and embedded/sqlite-store.ts (the processes of
 * one machine, through the state directory).
 */
export interface Holder {
  instance: string;
  /** Occurrence id (ms) for cron/rate, generation for interval, start time for manual runs. */
  occurrence: number;
  startedAt: number;
  manual?: boolean;
}

/** A job paused fleet-wide: by whom (user@host), since when and until when (ms, the store's clock), why. */
export interface Pause {
  by: string;
  at: number;
  /** Lifts itself then; null: until `iamwatch resume`. */
  until: number | null;
  reason: string | null;
}

/** What `iamwatch pause` asks for; `at` is set by the store. */
export interface PauseRequest {
  by: string;
  until: number | null;
  reason: string | null;
}

export type ClaimResult =
  | { kind: 'won'; fence: number; token: string }
  /** Another run claimed this occurrence (possibly this instance, earlier). */
  | { kind: 'taken' }
  /** Older than the claim window behind the newest claim: it can no longer run. */
  | { kind: 'late' }
  /** overlap=skip and a run is in progress: the occurrence is consumed as skipped. */
  | { kind: 'running'; holder: Holder | null }
  /** The job is paused: the occurrence is consumed (it never runs later) and recorded as skipped. */
  | { kind: 'paused'; pause: Pause };

export type IntervalClaimResult =
  /** `due`: when the run became due (the previous run's end plus the interval, on the store's clock). */
  | { kind: 'won'; fence: number; token: string; generation: number; due: number }
  /** The previous run ended less than the interval ago: try again in `ms`. */
  | { kind: 'wait'; ms: number }
  /** A run is in progress; its lock expires in `ms` unless renewed. */
  | { kind: 'running'; holder: Holder | null; ms: number }
  /** The job is paused: nothing was taken; the run would otherwise have started now. */
  | { kind: 'paused'; pause: Pause };

export type AcquireResult = { kind: 'won'; fence: number; token: string } | { kind: 'running'; holder: Holder | null } | { kind: 'paused'; pause: Pause };

export interface OccurrenceClaim {
  job: string;
  occurrence: number;
  holder: Holder;
  ttlMs: number;
  skipIfRunning: boolean;
  /** How long the claim may take; without an answer by then it fails (and is treated as lost). */
  timeoutMs?: number;
}

/** What the store's server keeps on disk: without it, claims and history vanish on a restart. */
export interface StorePersistence {
  kind: 'aof' | 'rdb' | 'none' | 'unknown';
  /** What was found, for the log line. */
  detail: string;
}

/** What a store is, for people and for JSON output; nothing branches on it outside coordination/. */
export interface StoreDescription {
  kind: 'redis' | 'embedded';
  /** Where it lives: the redacted Redis URL, or the state directory. */
  location: string;
  /** One line for people: "Redis redis://h:6379 (prefix iamwatch)", "embedded store in DIR (this machine only)". */
  label: string;
}

export interface CoordinationStore {
  readonly description: StoreDescription;
  /** False while a networked store is not connected (commands fail at once); always true for the embedded store. */
  readonly connected: boolean;
  /** The run history and heartbeats kept beside the claims, within `retention`. */
  fleet(retention: Retention): FleetStore;
  /** The queue of `iamwatch trigger` requests (triggers.ts). */
  triggers(): TriggerQueue;
  /** cron and rate: claim one occurrence and, if won, take a running lock for it. */
  claim(req: OccurrenceClaim): Promise<ClaimResult>;
  /** interval: start the next generation if it is due and nothing runs. */
  claimInterval(req: { job: string; holder: Holder; ttlMs: number; intervalMs: number }): Promise<IntervalClaimResult>;
  /** `once`: take the job's running lock only if no run of it is in progress anywhere. */
  acquire(req: { job: string; holder: Holder; ttlMs: number }): Promise<AcquireResult>;
  /** Extends a running lock; false when it was lost (expired and gone, or never held). */
  renew(job: string, token: string, ttlMs: number): Promise<boolean>;
  /** Releases a running lock; with `ended`, records the end of an interval run. */
  release(job: string, token: string, ended: boolean): Promise<void>;
  /** Pauses `jobs` fleet-wide (replacing a pause they had); their pauses as stored. */
  pause(jobs: readonly string[], req: PauseRequest): Promise<Map<string, Pause>>;
  /** Lifts the pauses of `jobs`; the ones that were paused, with the pause lifted. */
  resume(jobs: readonly string[]): Promise<Map<string, Pause>>;
  /** The current pauses among `jobs` (expired ones excluded), in one batched read. */
  pauses(jobs: readonly string[]): Promise<Map<string, Pause>>;
  /** The newest claimed occurrence of a job, or null if none (for misfire=once). */
  newestClaim(job: string): Promise<number | null>;
  /** Runs in progress for a job. */
  running(job: string): Promise<Array<Holder & { expiresAt: number }>>;
  /** The store's clock (ms), for skew measurement. */
  time(): Promise<number>;
  /** A networked store: what its server persists (checked at start). */
  persistence?(): Promise<StorePersistence>;
  /** A networked store: its server's run id (changes on a restart or failover); null if not allowed. */
  serverRunId?(): Promise<string | null>;
  close(): Promise<void>;
}

/** How far behind the newest claim an occurrence may still be claimed. Must exceed any tolerated skew. */
export const CLAIM_WINDOW_MS = 60_000;
