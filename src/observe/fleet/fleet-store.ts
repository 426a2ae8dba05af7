/**
 * Where the fleet writes about itself: run records (bounded per job by count and age) and instance
 * heartbeats (with expiry). Redis when REDIS_URL is set (redis-fleet.ts), else files in a state
 * directory next to the jobs file (file-fleet.ts) so `status` and `history` in another process
 * can read what a single embedded instance did.
 */
import type { Heartbeat, RunRecord } from '../run-record.js';

export interface Retention {
  /** Records kept per job. */
  limit: number;
  /** Records older than this are dropped. */
  maxAgeMs: number;
}

export interface FleetStore {
  readonly kind: 'redis' | 'file';
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
