/**
 * Recent signs that occurrences are lost to slowness rather than skipped by decision: Redis giving
 * no answer within a deadline, and this instance's event loop waking too late to claim in time
 * (overloaded). The health check reports each for PRESSURE_RECENT_MS after it was last seen;
 * metrics export them as gauges. Times are real time (Date.now), whatever the scheduler's clock.
 */

/** How long a sign of slowness keeps the health check degraded. */
export const PRESSURE_RECENT_MS = 30_000;

export interface PressureSnapshot {
  /** How late (ms) the loop woke for the latest claim it made. */
  wakeLateMs: number;
  /** The latest time the loop woke too late to claim or start an occurrence in time. */
  overloaded: { at: number; lateMs: number } | null;
  /** The latest time Redis gave no answer within a deadline, and to what. */
  redisSlow: { at: number; detail: string } | null;
}

export class Pressure {
  #wakeLateMs = 0;
  #overloaded: PressureSnapshot['overloaded'] = null;
  #redisSlow: PressureSnapshot['redisSlow'] = null;

  constructor(private readonly now: () => number = Date.now) {}

  /** The loop woke `lateMs` after a claim time. */
  woke(lateMs: number): void {
    this.#wakeLateMs = Math.max(0, lateMs);
  }

  overload(lateMs: number): void {
    this.#overloaded = { at: this.now(), lateMs };
  }

  redisSlow(detail: string): void {
    this.#redisSlow = { at: this.now(), detail };
  }

  snapshot(): PressureSnapshot {
    return { wakeLateMs: this.#wakeLateMs, overloaded: this.#overloaded, redisSlow: this.#redisSlow };
  }
}

/** Whether a sign seen at `at` still counts at `now`. */
export const isRecent = (at: number | undefined, now: number): boolean => at !== undefined && now - at <= PRESSURE_RECENT_MS;
