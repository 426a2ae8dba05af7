/**
 * Cross-cutting run behaviour as wrappers around a watcher run, composed in a chain:
 * lock renewal -> retries -> timeout -> abandon -> the watcher. A run has one RunControl; each
 * wrapper aborts it with a reason of its own (timeout, lock-lost; shutdown comes from the
 * scheduler). withAbandon makes every abort final: a watcher that never settles, or ignores its
 * signal, is let go after its grace, so the run ends, its lock is released and the instance goes on.
 */
import type { RunResult } from '../watchers/define-watcher.js';
import { sleepOn, type Clock } from './clock.js';
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

export interface AbandonOptions {
  /** How long a watcher may take to settle after its signal is aborted. */
  graceMs: number;
  clock: Clock;
  /** The abandoned promise settled later: its outcome no longer counts, but it is reported. */
  onLateSettle(outcome: { ok: true } | { ok: false; error: unknown }): void;
}

/**
 * Ends an attempt when its run is aborted, whether or not the watcher settles: it waits `graceMs`
 * for the watcher to stop on its own (so a well-behaved watcher finishes its cleanup first), then
 * rejects with the abort's reason. The abandoned promise is kept from becoming an unhandled
 * rejection and its late outcome is reported; it goes on running in the process until it settles.
 */
export function withAbandon(next: RunFn, o: AbandonOptions): RunFn {
  return (run, attempt) =>
    new Promise((resolve, reject) => {
      let settled = false;
      let cancelGrace: (() => void) | undefined;
      const finish = (): void => {
        settled = true;
        cancelGrace?.();
        stop();
      };
      const giveUp = (): void => {
        if (settled) return;
        finish();
        reject(run.reason);
        work.then(
          () => o.onLateSettle({ ok: true }),
          (error: unknown) => o.onLateSettle({ ok: false, error }),
        );
      };
      const onChange = (): void => {
        if (settled) return;
        if (run.abandoned || o.graceMs <= 0) giveUp();
        else cancelGrace ??= o.clock.setTimer(o.graceMs, giveUp);
      };
      const stop = run.onChange(onChange);
      let work: Promise<RunResult | void>;
      try {
        work = Promise.resolve(next(run, attempt));
      } catch (err) {
        work = Promise.reject(err);
      }
      work.then(
        (value) => {
          if (settled) return;
          finish();
          resolve(value);
        },
        (err: unknown) => {
          if (settled) return;
          finish();
          reject(err);
        },
      );
      if (run.aborted) onChange();
    });
}

/** Aborts the run when an attempt outlasts `timeoutMs`; a timed-out run is not retried. */
export function withTimeout(next: RunFn, timeoutMs: number | undefined, clock: Clock): RunFn {
  if (timeoutMs === undefined) return next;
  return async (run, attempt) => {
    const cancel = clock.setTimer(timeoutMs, () => run.abort(new RunAborted('timeout', `timed out after ${timeoutMs} ms`)));
    try {
      return await next(run, attempt);
    } catch (err) {
      throw abortedOr(run, err);
    } finally {
      cancel();
    }
  };
}

/** Retries a failed attempt up to `retries` times, `delayMs` apart; never after an abort. */
export function withRetries(next: RunFn, retries: number, delayMs: number, clock: Clock, onRetry: (attempt: number, err: unknown) => void): RunFn {
  if (retries === 0) return next;
  return async (run) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(run, attempt);
      } catch (err) {
        if (run.aborted || attempt > retries) throw abortedOr(run, err);
        onRetry(attempt, err);
        await sleepOn(clock, delayMs, run.signal);
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
