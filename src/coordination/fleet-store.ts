/**
 * Where the fleet writes about itself: run records (bounded per job by count and age) and instance
 * heartbeats (with expiry), kept by the coordination store beside its claims (store.fleet()): in
 * Redis (redis/redis-fleet.ts) or in the embedded store's state database
 * (embedded/embedded-fleet.ts), so `status` and `history` in another process can read them.
 */
import type { Settings } from '../jobsfile/settings.js';
import type { Heartbeat, RunRecord } from './records.js';

/** The retention the HISTORY_LIMIT and HISTORY_MAX_AGE settings ask for. */
export const retentionOf = (s: Pick<Settings, 'historyLimit' | 'historyMaxAgeMs'>): Retention => ({ limit: s.historyLimit, maxAgeMs: s.historyMaxAgeMs });

export interface Retention {
  /** Records kept per job. */
  limit: number;
  /** Records older than this are dropped. */
  maxAgeMs: number;
}

export interface FleetStore {
  /** Where it lives, for humans (a redacted URL or a directory). */
  readonly location: string;
  append(record: RunRecord): Promise<void>;
  /** A job's records, newest first, at most `limit`, none older than the retention age. */
  history(job: string, limit: number): Promise<RunRecord[]>;
  /** Every job that has records. */
  historyJobs(): Promise<string[]>;
  /** Publishes a heartbeat that expires after `ttlMs` unless renewed. */
  beat(heartbeat: Heartbeat, ttlMs: number): Promise<void>;
  /** Removes an instance's heartbeat (clean shutdown). */
  leave(instance: string): Promise<void>;
  /** Live instances (heartbeat not expired), sorted by id. */
  instances(): Promise<Heartbeat[]>;
}

/** Heartbeats are published this often and expire after HEARTBEAT_TTL_MS without one. */
export const HEARTBEAT_EVERY_MS = 5_000;
export const HEARTBEAT_TTL_MS = 15_000;
