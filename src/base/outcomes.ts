/** The words every layer uses for how a run ended and why an occurrence did not run. */

/** How a run ended. */
export type Outcome = 'ok' | 'failed' | 'timeout' | 'lock-lost' | 'aborted';

/**
 * Why an occurrence was skipped:
 * - overlap: overlap=skip and a run of the job was in progress;
 * - redis-unavailable: Redis not connected (down, refused, connection lost);
 * - redis-slow: connected, but no answer to the claim (or the skew check) within its deadline;
 * - overloaded: this instance's event loop woke too late to claim or start it on time;
 * - clock-skew: this clock is further than MAX_CLOCK_SKEW from Redis's;
 * - late: older than the claim window behind the newest claim;
 * - paused: the job was paused fleet-wide (`iamwatch pause`) when the occurrence was claimed.
 */
export type SkipReason = 'overlap' | 'redis-unavailable' | 'redis-slow' | 'overloaded' | 'clock-skew' | 'late' | 'paused';

export const SKIP_REASONS: readonly SkipReason[] = ['overlap', 'redis-unavailable', 'redis-slow', 'overloaded', 'clock-skew', 'late', 'paused'];
