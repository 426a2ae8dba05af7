/**
 * The start of an interval generation under jitter=. Its offset depends on the generation, which
 * only the claim assigns, so the generation is claimed when due (no other instance can start it
 * then) and its start waits the offset, holding the running lock and renewing it every third of
 * lock-ttl. A renewal that finds the lock gone gives the attempt up (the next claim decides
 * again); one that fails ends it like a failed claim; a shutdown releases the lock without
 * recording an end, so another instance can start the job at once.
 */
import { errorMessage } from '../base/errors.js';
import type { Logger } from '../base/logger.js';
import type { CoordinationStore } from '../coordination/store.js';
import { jitteredStart } from '../jobsfile/job.js';
import { PASS, type Attempt, type Gate } from './attempt.js';
import type { Clock } from './clock.js';
import { claimFailure } from './gates.js';
import type { Pressure } from './pressure.js';

/**
 * 4. (interval) Waits until the generation's jittered start. `hold(at)` waits on the scheduler's
 * timeline and resolves false when the scheduler stops claiming.
 */
export function holdForJitter(store: CoordinationStore, clock: Clock, pressure: Pressure, log: Logger, hold: (at: number) => Promise<boolean>): Gate {
  const letGo = (a: Attempt, token: string): void => {
    a.lease = null;
    store.release(a.job.name, token, false).catch((err: unknown) => {
      log.warn({ event: 'release-failed', job: a.job.name, err: errorMessage(err) }, 'could not release the running lock; it expires by itself');
    });
  };
  return async (a) => {
    const { job, lease } = a;
    if (job.jitterMs <= 0 || !lease) return PASS;
    const startAt = jitteredStart(job, a.id, a.nominal);
    a.startAt = startAt;
    while (clock.now() < startAt) {
      if (!(await hold(Math.min(startAt, clock.now() + job.lockTtlMs / 3)))) {
        letGo(a, lease.token);
        return { kind: 'defer', ms: 0 };
      }
      if (clock.now() >= startAt) break;
      let held: boolean;
      try {
        held = await store.renew(job.name, lease.token, job.lockTtlMs);
      } catch (err) {
        letGo(a, lease.token);
        return claimFailure(err, pressure);
      }
      if (!held) {
        a.lease = null;
        return { kind: 'defer', ms: 0 };
      }
    }
    return PASS;
  };
}
