/**
 * Cross-cutting run behaviour as wrappers around a watcher run, composed in a chain:
 * lock renewal -> retries -> timeout -> the watcher. A run has one AbortController; each wrapper
 * aborts it with a reason of its own (timeout, lock-lost; shutdown comes from the scheduler).
 */
import type { RunResult } from '../watchers/define-watcher.js';
import type { LeaseRenewal, Renewer } from './renewer.js';
import type { RunControl } from './run-control.js';

export type AbortKind = 'timeout' | 'lock-lost' | 'shutdown';

/** The reason a run's signal was aborted. */
export class RunAborted extends Error {
  override readonly name = 'RunAborted';
  constructor(
    readonly kind: AbortKind,
    message: string,
  ) {
    super(message);
  }
}

export type RunFn = (run: RunControl, attempt: number) => Promise<RunResult | void>;

export const abortKind = (run: RunControl): AbortKind | null => (run.reason instanceof RunAborted ? run.reason.kind : null);

/** However a watcher reacted to an abort, the run failed because of the abort. */
const abortedOr = (run: RunControl, err: unknown): unknown => (run.aborted ? run.reason : err);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Aborts the run when an attempt outlasts `timeoutMs`; a timed-out run is not retried. */
export function withTimeout(next: RunFn, timeoutMs: number | undefined): RunFn {
  if (timeoutMs === undefined) return next;
  return async (run, attempt) => {
    const timer = setTimeout(() => run.abort(new RunAborted('timeout', `timed out after ${timeoutMs} ms`)), timeoutMs);
    try {
      return await next(run, attempt);
    } catch (err) {
      throw abortedOr(run, err);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Retries a failed attempt up to `retries` times, `delayMs` apart; never after an abort. */
export function withRetries(next: RunFn, retries: number, delayMs: number, onRetry: (attempt: number, err: unknown) => void): RunFn {
  if (retries === 0) return next;
  return async (run) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(run, attempt);
      } catch (err) {
        if (run.aborted || attempt > retries) throw abortedOr(run, err);
        onRetry(attempt, err);
        await sleep(delayMs, run.signal);
      }
    }
  };
}

/** Keeps the running lock alive while the run lasts; aborts the run when the lock is lost. */
export function withRenewal(next: RunFn, renewer: Renewer, lease: Omit<LeaseRenewal, 'onLost'> & { onLost(detail: string): void }): RunFn {
  return async (run, attempt) => {
    // The first renewal is due a third of the TTL after the start, so registering can wait until
    // the runs due at this instant have all started; a run that is over by then never registers.
    let stop: (() => void) | undefined;
    let done = false;
    queueMicrotask(() => {
      if (done) return;
      stop = renewer.add({
        renew: lease.renew,
        ttlMs: lease.ttlMs,
        onLost: (detail) => {
          lease.onLost(detail);
          run.abort(new RunAborted('lock-lost', `lost the running lock: ${detail}`));
        },
      });
    });
    try {
      return await next(run, attempt);
    } catch (err) {
      throw abortedOr(run, err);
    } finally {
      done = true;
      stop?.();
    }
  };
}
