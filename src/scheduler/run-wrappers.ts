/**
 * Cross-cutting run behaviour as wrappers around a watcher run, composed in a chain:
 * lock renewal (abort on loss) -> timeout -> retries. Each wrapper adds an abort reason of its own.
 */
import { errorMessage } from '../errors.js';
import type { RunResult } from '../watchers/define-watcher.js';
import type { Clock } from './clock.js';

export type RunFn = (signal: AbortSignal, attempt: number) => Promise<RunResult | void>;

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

export const abortKind = (signal: AbortSignal): AbortKind | null => (signal.reason instanceof RunAborted ? signal.reason.kind : null);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Aborts the run when it outlasts `timeoutMs`. */
export function withTimeout(run: RunFn, timeoutMs: number | undefined): RunFn {
  if (timeoutMs === undefined) return run;
  return async (signal, attempt) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new RunAborted('timeout', `timed out after ${timeoutMs} ms`)), timeoutMs);
    try {
      return await run(AbortSignal.any([signal, controller.signal]), attempt);
    } catch (err) {
      // However the watcher reacted to the abort, the run failed because of it.
      throw controller.signal.aborted ? controller.signal.reason : err;
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Retries a failed attempt up to `retries` times, `delayMs` apart; never after an abort. */
export function withRetries(run: RunFn, retries: number, delayMs: number, onRetry: (attempt: number, err: unknown) => void): RunFn {
  return async (signal) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run(signal, attempt);
      } catch (err) {
        if (signal.aborted || attempt > retries || err instanceof RunAborted) throw err;
        onRetry(attempt, err);
        await sleep(delayMs, signal);
      }
    }
  };
}

export interface Renewal {
  renew(): Promise<boolean>;
  ttlMs: number;
  clock: Clock;
  onLost(detail: string): void;
}

/**
 * Renews the running lock every ttl/3 while the run lasts. The run is aborted when a renewal
 * says the lock is gone, or when renewals have failed for 2/3 of the TTL (Redis unreachable):
 * past that point the lock may expire and another instance may take over, so stop first.
 */
export function withRenewal(run: RunFn, renewal: Renewal | null): RunFn {
  if (!renewal) return run;
  return async (signal, attempt) => {
    const controller = new AbortController();
    const lose = (detail: string): void => {
      if (controller.signal.aborted) return;
      renewal.onLost(detail);
      controller.abort(new RunAborted('lock-lost', `lost the running lock: ${detail}`));
    };
    let lastOk = renewal.clock.now();
    let inFlight = false;
    const timer = setInterval(() => {
      if (inFlight) return;
      inFlight = true;
      renewal
        .renew()
        .then((held) => {
          if (held) lastOk = renewal.clock.now();
          else lose('the lock expired or was taken over');
        })
        .catch((err: unknown) => {
          if (renewal.clock.now() - lastOk >= (renewal.ttlMs * 2) / 3) lose(`renewal failing for ${renewal.clock.now() - lastOk} ms: ${errorMessage(err)}`);
        })
        .finally(() => (inFlight = false));
    }, Math.max(100, Math.floor(renewal.ttlMs / 3)));
    try {
      return await run(AbortSignal.any([signal, controller.signal]), attempt);
    } catch (err) {
      throw controller.signal.aborted ? controller.signal.reason : err;
    } finally {
      clearInterval(timer);
    }
  };
}
