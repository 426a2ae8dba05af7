/**
 * Time as the scheduler sees it: the current instant and timers, injected, so every wait of the
 * scheduler core (the timeline, lock renewals, skew checks, run timeouts, abort graces, retry
 * delays, drains) can run on a fake clock in tests, and a skewed instance can be simulated.
 */
export interface Clock {
  now(): number;
  /**
   * Calls `fn` after `ms` (capped to what setTimeout can wait); returns the function that cancels
   * it. `unref`: the timer alone does not keep the process alive.
   */
  setTimer(ms: number, fn: () => void, unref?: boolean): () => void;
}

/** setTimeout's longest wait (2^31 - 1 ms); longer ones would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn, unref = false) {
    const t = setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS));
    if (unref) t.unref();
    return () => clearTimeout(t);
  },
};

/** A clock `offsetMs` ahead of (or, negative, behind) `base`: a skewed instance. */
export function offsetClock(offsetMs: number, base: Clock = systemClock): Clock {
  return { now: () => base.now() + offsetMs, setTimer: (ms, fn, unref) => base.setTimer(ms, fn, unref) };
}

/** A promise that resolves after `ms` on `clock`, or rejects with the signal's reason when aborted. */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      cancel();
      reject(signal!.reason);
    };
    const cancel = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
