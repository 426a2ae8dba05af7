/**
 * Every Redis key iamwatch uses, built here and nowhere else. A job's keys share a Redis Cluster
 * hash tag ({job}) so the multi-key scripts stay on one slot.
 */
export interface JobKeys {
  /** ZSET of claimed occurrence ids (score = id), trimmed to the claim window. */
  claims: string;
  /** HASH: fence (counter), gen / endedGen / endedAt (interval runs). */
  state: string;
  /** ZSET of running-lock tokens scored by deadline (store clock, ms). */
  running: string;
  /** HASH token -> holder JSON for the running locks. */
  holders: string;
  /** LIST of run records, newest first. */
  history: string;
  /** STRING: the job's pause as JSON {at, by, until, reason} (`iamwatch pause`), absent when not paused. */
  pause: string;
}

export function jobKeys(prefix: string, job: string): JobKeys {
  const base = `${prefix}:{${job}}`;
  return {
    claims: `${base}:claims`,
    state: `${base}:state`,
    running: `${base}:running`,
    holders: `${base}:holders`,
    history: `${base}:history`,
    pause: `${base}:pause`,
  };
}

/** ZSET of instance ids scored by last heartbeat, and each instance's details. */
export function instanceKeys(prefix: string): { instances: string; instance: (id: string) => string } {
  return {
    instances: `${prefix}:instances`,
    instance: (id) => `${prefix}:instance:${id}`,
  };
}

/** SET of job names that have run records (so `history` finds jobs no longer in the jobs file). */
export function historyJobsKey(prefix: string): string {
  return `${prefix}:history-jobs`;
}

/**
 * The fleet trigger queue (`iamwatch trigger`, ../triggers.ts): both keys share the hash tag
 * `{:triggers}`, which no job's tag can be (a job name starts with a letter or digit), so one
 * script updates the queue and a request's state atomically, in one slot, without touching a job's keys.
 */
export interface TriggerKeys {
  /** HASH id -> request JSON: the pending requests (an expired one is deleted when a script meets it). */
  queue: string;
  /** STRING: a request's state as JSON (pending, taken or done), expiring TRIGGER_KEEP_MS after it last changed (a pending one: after it expires). */
  state: (id: string) => string;
}

export function triggerKeys(prefix: string): TriggerKeys {
  const base = `${prefix}:{:triggers}`;
  return {
    queue: `${base}:queue`,
    state: (id) => `${base}:state:${id}`,
  };
}
