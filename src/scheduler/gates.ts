/**
 * The gates an occurrence passes before it runs (their order is stated in pipeline.ts). Each is
 * one small decision: a verdict from the attempt and what the gate was built with. The claim is
 * the one gate every instance must pass, so the fleet's decisions are enforced there, in the store.
 */
import { errorMessage, IamwatchError } from '../base/errors.js';
import type { SkipReason } from '../base/outcomes.js';
import { pausedRefusal, pauseSummary } from '../coordination/pause.js';
import { storeFailureOf } from '../coordination/store-failure.js';
import type { CoordinationStore, Holder } from '../coordination/store.js';
import { PASS, startOf, type Gate, type GateVerdict } from './attempt.js';
import type { Clock } from './clock.js';
import type { Pressure } from './pressure.js';
import type { SkewMonitor } from './skew.js';

/**
 * The latest a cron or rate run starts after its nominal time (misfire=once jobs excepted): its
 * claim must be answered, and the loop must wake to start it, by then; otherwise it is skipped.
 */
export const MAX_START_DELAY_MS = 500;
/** Less time than this left for a claim is too little for an answer to come back. */
const MIN_CLAIM_MS = 20;
/** A deadline's timer firing this much late means the event loop, not the store, was slow. */
const LOOP_LAG_MS = 100;

const skip = (reason: SkipReason, detail?: string, extra: { holder?: string; lateMs?: number } = {}): GateVerdict => ({ kind: 'skip', reason, ...(detail ? { detail } : {}), ...extra });

/** A claim that failed: the store down, the store slow, or this loop too busy to hear the answer. */
export function claimFailure(err: unknown, pressure: Pressure): GateVerdict {
  const f = storeFailureOf(err);
  if (f?.store !== 'slow') return skip('redis-unavailable', errorMessage(err));
  if ((f.lagMs ?? 0) >= LOOP_LAG_MS) {
    pressure.overload(f.lagMs ?? 0);
    return skip('overloaded', errorMessage(err), { lateMs: f.lagMs ?? 0 });
  }
  pressure.redisSlow(`a claim got no answer within ${f.timeoutMs} ms`);
  return skip('redis-slow', errorMessage(err));
}

/** 1. The loop woke in time to claim: otherwise the occurrence is `overloaded` (misfire=once runs anyway). */
export function wokeInTime(clock: Clock, pressure: Pressure): Gate {
  return (a) => {
    if (a.claimAt === null) return PASS;
    const lateMs = clock.now() - a.claimAt;
    pressure.woke(lateMs);
    if (clock.now() <= startOf(a) + MAX_START_DELAY_MS - MIN_CLAIM_MS) return PASS;
    pressure.overload(lateMs);
    return a.startBy === null ? PASS : skip('overloaded', `woke for the claim ${lateMs} ms late: the event loop was busy`, { lateMs });
  };
}

/** 2. Claims need a measured skew within the bound. */
export function skewWithinBound(skew: SkewMonitor, pressure: Pressure): Gate {
  return async () => {
    await skew.ensureMeasured();
    if (skew.ok) return PASS;
    if (skew.skewMs !== null) return skip('clock-skew', `skew ${skew.skewMs} ms`);
    if (skew.lastFailure === 'slow') {
      pressure.redisSlow('the clock-skew measurement got no answer in time');
      return skip('redis-slow', 'clock skew could not be measured: Redis did not answer in time');
    }
    return skip('redis-unavailable', 'clock skew could not be measured');
  };
}

const holderOf = (instance: string, occurrence: number, now: number, manual = false): Holder => ({ instance, occurrence, startedAt: now, ...(manual ? { manual } : {}) });

/** 3. The one-way door for a cron or rate occurrence, and its running lock; overlap=skip and pauses judged in the store. */
export function claimOccurrence(store: CoordinationStore, clock: Clock, pressure: Pressure, instance: string): Gate {
  return async (a) => {
    const { job } = a;
    let timeoutMs: number | undefined;
    if (a.startBy !== null) {
      timeoutMs = a.startBy - clock.now();
      if (timeoutMs < MIN_CLAIM_MS) {
        pressure.redisSlow('the clock-skew measurement took until the claim was due');
        return skip('redis-slow', 'measuring the clock skew against Redis took too long to claim in time');
      }
    }
    let claim;
    try {
      claim = await store.claim({ job: job.name, occurrence: a.id, holder: holderOf(instance, a.id, clock.now()), ttlMs: job.lockTtlMs, skipIfRunning: job.overlap === 'skip', timeoutMs });
    } catch (err) {
      return claimFailure(err, pressure);
    }
    switch (claim.kind) {
      case 'taken':
        return { kind: 'taken' };
      case 'late':
        return skip('late', 'older than the claim window behind the newest claim');
      case 'running':
        return skip('overlap', undefined, claim.holder ? { holder: claim.holder.instance } : {});
      case 'paused':
        // Consumed in the store: this occurrence never runs, here or anywhere.
        return skip('paused', pauseSummary(claim.pause));
      case 'won':
        a.lease = { token: claim.token, fence: claim.fence, interval: false };
        return PASS;
    }
  };
}

/** 3. The next generation of an interval job, due `interval` after the previous run ended anywhere. */
export function claimIntervalGeneration(store: CoordinationStore, clock: Clock, pressure: Pressure, instance: string): Gate {
  return async (a) => {
    const { job } = a;
    const everyMs = job.schedule.kind === 'every' ? job.schedule.everyMs : 0;
    const poll = Math.min(Math.max(everyMs / 2, 250), 5_000);
    let res;
    try {
      res = await store.claimInterval({ job: job.name, holder: holderOf(instance, 0, clock.now()), ttlMs: job.lockTtlMs, intervalMs: everyMs });
    } catch (err) {
      return claimFailure(err, pressure);
    }
    switch (res.kind) {
      case 'wait':
        return { kind: 'defer', ms: res.ms };
      case 'running':
        return { kind: 'defer', ms: Math.max(50, Math.min(res.ms, poll)) };
      case 'paused':
        // Nothing taken; the scheduler tries again an interval later.
        return skip('paused', pauseSummary(res.pause));
      case 'won':
        a.id = res.generation;
        a.nominal = res.due;
        a.lease = { token: res.token, fence: res.fence, interval: true };
        return PASS;
    }
  };
}

/**
 * 4. A claimed occurrence starts at its start time (nominal plus jitter; it may have been claimed
 * ahead), and not more than MAX_START_DELAY_MS after it: too late, it is skipped as `overloaded`
 * and its lock released.
 * `waitUntil` waits on the scheduler's timeline, where a committed wait survives a shutdown.
 */
export function startOnTime(store: CoordinationStore, clock: Clock, pressure: Pressure, waitUntil: (at: number) => Promise<void>): Gate {
  return async (a) => {
    const startAt = startOf(a);
    if (clock.now() < startAt) await waitUntil(startAt);
    const lateMs = clock.now() - startAt;
    if (a.startBy === null || lateMs <= MAX_START_DELAY_MS) return PASS;
    pressure.overload(lateMs);
    if (a.lease) store.release(a.job.name, a.lease.token, false).catch(() => {});
    a.lease = null;
    return skip('overloaded', `got to the start ${lateMs} ms late: the event loop was busy`, { lateMs });
  };
}

/** `once`: the job's running lock, only if no run of it is in progress anywhere; a paused job is refused (LOCK_HELD). */
export function manualLock(store: CoordinationStore, clock: Clock, instance: string): Gate {
  return async (a) => {
    let acquired;
    try {
      acquired = await store.acquire({ job: a.job.name, holder: holderOf(instance, a.id, clock.now(), true), ttlMs: a.job.lockTtlMs });
    } catch (err) {
      throw new IamwatchError('UNAVAILABLE', `cannot take the running lock of ${a.job.name}: ${errorMessage(err)}`);
    }
    if (acquired.kind === 'paused') throw new IamwatchError('LOCK_HELD', pausedRefusal(a.job.name, acquired.pause), { pause: acquired.pause });
    if (acquired.kind === 'running') return { kind: 'held', holder: acquired.holder };
    a.lease = { token: acquired.token, fence: acquired.fence, interval: a.job.mode === 'interval' };
    return PASS;
  };
}

/**
 * A fleet trigger: the job's running lock, as for `once`, but every refusal is a verdict the
 * trigger reports: `held` (a run is in progress), a `paused` skip (recorded, with who asked), or the
 * store failing.
 */
export function triggerLock(store: CoordinationStore, clock: Clock, pressure: Pressure, instance: string): Gate {
  return async (a) => {
    let acquired;
    try {
      acquired = await store.acquire({ job: a.job.name, holder: holderOf(instance, a.id, clock.now(), true), ttlMs: a.job.lockTtlMs });
    } catch (err) {
      return claimFailure(err, pressure);
    }
    if (acquired.kind === 'paused') return skip('paused', pauseSummary(acquired.pause));
    if (acquired.kind === 'running') return { kind: 'held', holder: acquired.holder };
    a.lease = { token: acquired.token, fence: acquired.fence, interval: a.job.mode === 'interval' };
    return PASS;
  };
}

/** `once --no-lock`: no running lock, but a paused job is still refused (LOCK_HELD). */
export function manualNotPaused(store: CoordinationStore): Gate {
  return async (a) => {
    let pause;
    try {
      pause = (await store.pauses([a.job.name])).get(a.job.name);
    } catch (err) {
      throw new IamwatchError('UNAVAILABLE', `cannot check whether ${a.job.name} is paused: ${errorMessage(err)}`);
    }
    if (pause) throw new IamwatchError('LOCK_HELD', pausedRefusal(a.job.name, pause), { pause });
    return PASS;
  };
}
