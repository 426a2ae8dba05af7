/**
 * The liveness check behind /livez: is this process's scheduler loop still turning? It answers
 * from memory alone (the time the loop last woke), never from Redis or the database, so a Redis
 * outage or a slow network can't fail it; that is /healthz's job (readiness). A loop that has not
 * started yet (start-up is waiting for Redis) or has stopped on purpose (a graceful shutdown is
 * draining) is alive; only a loop that should be waking and hasn't for MAX_TICK_AGE_MS is not.
 */
import { MAX_TICK_AGE_MS } from './health.js';
import type { SchedulerView } from './heartbeat.js';

export interface LivenessReport {
  ok: boolean;
  /** ok, starting, draining, or why not. */
  detail: string;
  /** Milliseconds since the loop last woke, null before it started. */
  lastTickAgeMs: number | null;
}

export function checkLiveness(s: Pick<SchedulerView, 'lastTick' | 'stopping'>, now: number = Date.now()): LivenessReport {
  const age = s.lastTick === 0 ? null : Math.max(0, now - s.lastTick);
  if (s.stopping) return { ok: true, detail: 'draining', lastTickAgeMs: age };
  if (age === null) return { ok: true, detail: 'starting', lastTickAgeMs: null };
  if (age > MAX_TICK_AGE_MS) return { ok: false, detail: `scheduler loop stalled: last tick ${Math.round(age / 1000)} s ago`, lastTickAgeMs: age };
  return { ok: true, detail: 'ok', lastTickAgeMs: age };
}
