/**
 * The health check: healthy only when the scheduler loop is alive (it woke up recently and is not
 * shutting down), something is scheduled or running, and Redis (when configured) answers TIME
 * within a short timeout. Slowness makes it *degraded* (also 503): Redis connected but not
 * answering in time, now or within the last PRESSURE_RECENT_MS (claims, renewals), and this
 * instance overloaded (its loop woke too late to claim in time) within that window; occurrences
 * are being skipped meanwhile. Each failing condition is a reason in the answer.
 */
import { storeFailureOf } from '../coordination/store-failure.js';
import type { CoordinationStore } from '../coordination/store.js';
import { errorMessage } from '../base/errors.js';
import { isRecent, type PressureSnapshot } from '../scheduler/pressure.js';
import type { SchedulerView } from './heartbeat.js';

/** The loop wakes at least every 5 s; three missed wakes mean it is stuck. */
export const MAX_TICK_AGE_MS = 15_000;

export interface HealthReport {
  ok: boolean;
  /** ok; degraded: only slowness (Redis slow, this instance overloaded); unhealthy: anything else. */
  status: 'ok' | 'degraded' | 'unhealthy';
  reasons: string[];
  checks: { scheduler: string; store: string };
}

export interface HealthDeps {
  scheduler: SchedulerView & { states(): Array<{ next: number | null; runningHere: number }>; readonly pressure?: PressureSnapshot };
  store: CoordinationStore;
  now?: () => number;
  redisTimeoutMs?: number;
}

type RedisProbe = { state: 'ok'; ms: number } | { state: 'slow' | 'down'; error: string };

/** TIME through the store: ok, slow (connected, no answer in time) or down. */
async function probeRedis(store: CoordinationStore, timeoutMs: number): Promise<RedisProbe> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  try {
    const r = await Promise.race([store.time().then(() => 'answered' as const), timeout]);
    if (r === 'timeout') return { state: 'slow', error: `no answer to TIME within ${timeoutMs} ms` };
    return { state: 'ok', ms: Date.now() - started };
  } catch (err) {
    return { state: storeFailureOf(err)?.store === 'slow' ? 'slow' : 'down', error: errorMessage(err) };
  } finally {
    clearTimeout(timer);
  }
}

const ago = (at: number, now: number): string => `${Math.max(0, Math.round((now - at) / 1000))} s ago`;

export async function checkHealth(d: HealthDeps): Promise<HealthReport> {
  const now = (d.now ?? Date.now)();
  const reasons: string[] = [];
  let degradedOnly = true;
  const s = d.scheduler;
  const pressure = s.pressure;
  let scheduler = 'ok';
  if (s.stopping) scheduler = 'shutting down';
  else if (s.lastTick === 0) scheduler = 'not started';
  else if (now - s.lastTick > MAX_TICK_AGE_MS) scheduler = `loop stalled: last tick ${Math.round((now - s.lastTick) / 1000)} s ago`;
  else {
    const states = s.states();
    if (states.length === 0) scheduler = 'no jobs: the jobs file schedules nothing';
    else if (states.every((j) => j.next === null && j.runningHere === 0)) scheduler = 'no job has an occurrence scheduled';
  }
  if (scheduler !== 'ok') {
    degradedOnly = false;
    reasons.push(`scheduler: ${scheduler}`);
  } else if (pressure?.overloaded && isRecent(pressure.overloaded.at, now)) {
    scheduler = `overloaded: woke ${pressure.overloaded.lateMs} ms too late to claim or start an occurrence on time, ${ago(pressure.overloaded.at, now)}`;
    reasons.push(`scheduler: ${scheduler}`);
  }
  // Reasons name the store by its kind ("redis: slow ..."), so alerts can tell them apart.
  const name = d.store.description.kind;
  let store: string;
  const p = await probeRedis(d.store, d.redisTimeoutMs ?? 1_000);
  if (p.state === 'ok') {
    store = `ok (${p.ms} ms)`;
    if (pressure?.redisSlow && isRecent(pressure.redisSlow.at, now)) {
      store = `slow: ${pressure.redisSlow.detail}, ${ago(pressure.redisSlow.at, now)}`;
      reasons.push(`${name}: ${store}`);
    }
  } else if (p.state === 'slow') {
    store = `slow: ${p.error}`;
    reasons.push(`${name}: ${store}`);
  } else {
    store = `unreachable: ${p.error}`;
    degradedOnly = false;
    reasons.push(`${name}: ${store}`);
  }
  const status = reasons.length === 0 ? 'ok' : degradedOnly ? 'degraded' : 'unhealthy';
  return { ok: reasons.length === 0, status, reasons, checks: { scheduler, store: `${d.store.description.label}: ${store}` } };
}
