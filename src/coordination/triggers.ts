/**
 * Fleet triggers (`iamwatch trigger JOB`): a request to run a job now, taken by exactly one live
 * instance that runs it through the same pipeline as scheduled runs. The queue lives in the
 * coordination store beside the claims (store.triggers()): in Redis (redis/redis-triggers.ts) or in
 * the embedded store's state database (embedded/embedded-triggers.ts).
 *
 * A request's life: `request` puts it in the queue, pending until `expiresAt` (the store's clock);
 * instances poll `pending` and `take` the ones for jobs they run: taking is atomic, so one instance
 * wins and the others get null; the winner `report`s `taken` when it starts and `done` with the
 * result when the run ends. The asker polls `state`; if nobody took the request by its deadline it
 * `withdraw`s it (true: withdrawn, nobody will run it; false: an instance took it just now). An
 * expired request is never taken: it leaves `pending`, its state stays `pending` (past its
 * `expiresAt`) and withdrawing it answers true. A withdrawn request is forgotten at once (`state`
 * answers null). Every request and its state are kept for TRIGGER_KEEP_MS after they last changed
 * (a pending one: after it expires), then forgotten (`state` answers null).
 */

/** A request to run a job now, as stored. Times are ms on the store's clock. */
export interface TriggerRequest {
  /** Chosen by the asker (a random UUID): the key of its state. */
  id: string;
  job: string;
  /** Who asked: user@host. */
  by: string;
  at: number;
  /** After this nobody takes it. */
  expiresAt: number;
}

/** How a triggered run ended, as the instance that ran it reports it. */
export interface TriggerResult {
  /** A run outcome (ok, failed, timeout, …), `skipped` (paused: recorded with its reason), or `held`: another run of the job was in progress, so none was started. */
  outcome: string;
  /** Skipped: why (`paused`). */
  reason: string | null;
  /** Held: the instance whose run was in progress. */
  holder: string | null;
  occurrence: string | null;
  fence: number | null;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  attempts: number;
  summary: string | null;
  error: string | null;
}

/** A result's run fields when no run happened (yet): what a report fills in. */
export const NO_RUN: Omit<TriggerResult, 'outcome'> = Object.freeze({ reason: null, holder: null, occurrence: null, fence: null, startedAt: null, endedAt: null, durationMs: null, attempts: 0, summary: null, error: null });

export type TriggerState =
  | { state: 'pending'; request: TriggerRequest }
  | { state: 'taken'; request: TriggerRequest; instance: string; at: number }
  | { state: 'done'; request: TriggerRequest; instance: string; at: number; result: TriggerResult };

/** What an instance writes about a request it took. */
export type TriggerProgress = { state: 'taken'; instance: string } | { state: 'done'; instance: string; result: TriggerResult };

/** How long a request and its state are kept (ms). */
export const TRIGGER_KEEP_MS = 60 * 60_000;

export interface TriggerQueue {
  /**
   * Queues a request, pending for `ttlMs` (> 0) from now on the store's clock; the request as stored.
   * An id the store knows (pending, taken or done) is not queued again: its request is answered as
   * stored, so asking again after an answer was lost never runs the job twice.
   */
  request(req: { id: string; job: string; by: string; ttlMs: number }): Promise<TriggerRequest>;
  /** The pending requests that have not expired (few: the queue is drained every second), oldest first. */
  pending(): Promise<TriggerRequest[]>;
  /** Takes a pending request for `instance`; null when another instance took it, it was withdrawn, or it expired. */
  take(id: string, instance: string): Promise<TriggerRequest | null>;
  /**
   * Records what became of a taken request (stamped with the store's clock). Only the instance
   * that took it can; a report of a request it did not take (or one forgotten, or a `taken` after
   * `done`) changes nothing.
   */
  report(id: string, progress: TriggerProgress): Promise<void>;
  /** A request's state, or null when it is unknown (never made, or forgotten). */
  state(id: string): Promise<TriggerState | null>;
  /** Takes back a pending request: true when withdrawn; false when an instance took it first (or it is unknown). */
  withdraw(id: string): Promise<boolean>;
}
