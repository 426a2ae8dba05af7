/** Time as the scheduler sees it: injectable, so tests can skew or fake it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock `offsetMs` ahead of (or, negative, behind) `base`: a skewed instance. */
export function offsetClock(offsetMs: number, base: Clock = systemClock): Clock {
  return { now: () => base.now() + offsetMs };
}
