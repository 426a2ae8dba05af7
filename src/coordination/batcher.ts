/**
 * Coalesces store calls made in the same tick into one batch, so the round trips a store makes do
 * not grow with the number of jobs due together. Callers submit one request at a time and await
 * their own result; the batch is flushed on the next `setImmediate`, or at once when it reaches
 * `maxSize` requests (the rest of the tick starts a new batch). The flush answers every request
 * with its own value or its own error; a flush that fails as a whole (its promise rejects) fails
 * every request in it with that same error. A batch's deadline is its requests' smallest: each
 * request may carry a timeout, counted from when it was submitted.
 */
import { performance } from 'node:perf_hooks';
import { internalError } from './internal-error.js';

/** One request's answer from a flush. */
export type Settled<R> = { value: R } | { error: unknown };

/**
 * Sends a batch. `timeoutMs`: the time left until the first request's deadline passes (at least
 * 1), or undefined when no request has one. Answers in the order of `requests`, one each.
 */
export type Flush<Q, R> = (requests: Q[], timeoutMs: number | undefined) => Promise<Array<Settled<R>>>;

export interface BatcherOptions {
  /** What the batch is for, in error messages ("claim", "renew"...). */
  name: string;
  /** The most requests one flush takes. Default DEFAULT_BATCH_SIZE. */
  maxSize?: number;
  /** Schedules the end-of-tick flush. Default setImmediate. */
  defer?: (fn: () => void) => void;
  /** A monotonic clock in ms. Default performance.now. */
  now?: () => number;
}

/**
 * A tick of 10,000 due jobs is five batches, sent together. Small enough for one script call to
 * stay short: Redis runs a script of 2,000 claims in about 25 ms (5,000 take about 70 ms), and
 * answers no other client meanwhile.
 */
export const DEFAULT_BATCH_SIZE = 2_000;

interface Entry<Q, R> {
  request: Q;
  /** Absolute deadline (ms), or Infinity. */
  until: number;
  resolve(value: R): void;
  reject(err: unknown): void;
}

export class Batcher<Q, R> {
  #pending: Array<Entry<Q, R>> = [];
  #scheduled = false;
  readonly #flush: Flush<Q, R>;
  readonly #name: string;
  readonly #maxSize: number;
  readonly #defer: (fn: () => void) => void;
  readonly #now: () => number;

  constructor(flush: Flush<Q, R>, options: BatcherOptions) {
    this.#flush = flush;
    this.#name = options.name;
    this.#maxSize = Math.max(1, options.maxSize ?? DEFAULT_BATCH_SIZE);
    this.#defer = options.defer ?? ((fn) => void setImmediate(fn));
    this.#now = options.now ?? (() => performance.now());
  }

  /** Requests waiting for the end of the tick. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Adds `request` to this tick's batch; `timeoutMs` bounds how long the batch may take for it. */
  submit(request: Q, timeoutMs?: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const until = timeoutMs === undefined ? Infinity : this.#now() + timeoutMs;
      this.#pending.push({ request, until, resolve, reject });
      if (this.#pending.length >= this.#maxSize) this.#send();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        this.#defer(() => {
          this.#scheduled = false;
          this.#send();
        });
      }
    });
  }

  #send(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    let until = Infinity;
    for (const e of batch) until = Math.min(until, e.until);
    // Rounded up: a batch sent within the millisecond it was filled keeps its requests' deadline.
    const timeoutMs = until === Infinity ? undefined : Math.max(1, Math.ceil(until - this.#now()));
    let sent: Promise<Array<Settled<R>>>;
    try {
      sent = Promise.resolve(this.#flush(batch.map((e) => e.request), timeoutMs));
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(
      (answers) => {
        if (!Array.isArray(answers) || answers.length !== batch.length) {
          const err = internalError(`a ${this.#name} batch`, `${batch.length} requests, ${Array.isArray(answers) ? answers.length : 'no'} answers`);
          for (const e of batch) e.reject(err);
          return;
        }
        batch.forEach((e, i) => {
          const a: unknown = answers[i];
          if (typeof a === 'object' && a !== null && 'error' in a) e.reject(a.error);
          else if (typeof a === 'object' && a !== null && 'value' in a) e.resolve(a.value as R);
          else e.reject(internalError(`a ${this.#name} batch`, `no answer for request ${i + 1} of ${batch.length}`));
        });
      },
      (err: unknown) => {
        for (const e of batch) e.reject(err);
      },
    );
  }
}
