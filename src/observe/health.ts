/**
 * The health check: healthy only when the scheduler loop is alive (it woke up recently and is not
 * shutting down), something is scheduled or running, and Redis (when configured) answers TIME
 * within a short timeout. Each failing condition is a reason in the answer.
 */
import type { CoordinationStore } from '../coordination/store.js';
import type { SchedulerView } from './heartbeat.js';
import { probeStore } from './probes.js';

/** The loop wakes at least every 5 s; three missed wakes mean it is stuck. */
export const MAX_TICK_AGE_MS = 15_000;

export interface HealthReport {
  ok: boolean;
  reasons: string[];
  checks: { scheduler: string; redis: string };
}

export interface HealthDeps {
  scheduler: SchedulerView & { states(): Array<{ next: number | null; runningHere: number }> };
  store: CoordinationStore;
  now?: () => number;
  redisTimeoutMs?: number;
}

export async function checkHealth(d: HealthDeps): Promise<HealthReport> {
  const now = (d.now ?? Date.now)();
  const reasons: string[] = [];
  const s = d.scheduler;
  let scheduler = 'ok';
  if (s.stopping) scheduler = 'shutting down';
  else if (s.lastTick === 0) scheduler = 'not started';
  else if (now - s.lastTick > MAX_TICK_AGE_MS) scheduler = `loop stalled: last tick ${Math.round((now - s.lastTick) / 1000)} s ago`;
  else {
    const states = s.states();
    if (states.length > 0 && states.every((j) => j.next === null && j.runningHere === 0)) scheduler = 'no job has an occurrence scheduled';
  }
  if (scheduler !== 'ok') reasons.push(`scheduler: ${scheduler}`);
  let redis = 'not configured (in-process locks)';
  if (d.store.kind === 'redis') {
    const p = await probeStore(d.store, d.redisTimeoutMs ?? 1_000);
    redis = p.ok ? `ok (${p.ms} ms)` : `unreachable: ${p.error}`;
    if (!p.ok) reasons.push(`redis: ${p.error}`);
  }
  return { ok: reasons.length === 0, reasons, checks: { scheduler, redis } };
}
