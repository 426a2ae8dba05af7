/** Exit codes: the one place they are set. Scripts rely on these; the README lists them. */
import type { ErrorCode } from '../base/errors.js';

export const EXIT = {
  OK: 0,
  /** Invalid input (bad jobs file, bad spec, never fires) or, for `once`, a failed run. */
  FAILURE: 1,
  USAGE: 2,
  /** `once`: the job's running lock is held by another run. */
  LOCK_HELD: 3,
  /** Redis or the database could not be reached. */
  UNAVAILABLE: 4,
  /** A bug: an unexpected error. */
  INTERNAL: 70,
  /** A second SIGHUP / SIGINT / SIGTERM cut the drain short: 128 + the signal number. */
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

export function signalExit(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? EXIT.SIGINT : signal === 'SIGHUP' ? EXIT.SIGHUP : EXIT.SIGTERM;
}

/**
 * How a run ended, as `once` and `trigger --wait` exit: 0 ok; 130 aborted (interrupted); 3 not
 * started because another run holds the lock or the job is paused; 4 not started because the store
 * could not be reached; 1 for every failure (failed, timeout, lock-lost).
 */
export function exitForRun(outcome: string, reason: string | null = null): number {
  if (outcome === 'ok') return EXIT.OK;
  if (outcome === 'aborted') return EXIT.SIGINT;
  if (outcome === 'held' || (outcome === 'skipped' && reason === 'paused')) return EXIT.LOCK_HELD;
  if (outcome === 'skipped') return EXIT.UNAVAILABLE;
  return EXIT.FAILURE;
}

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'INVALID_INPUT':
    case 'RUN_FAILED':
      return EXIT.FAILURE;
    case 'USAGE':
      return EXIT.USAGE;
    case 'LOCK_HELD':
      return EXIT.LOCK_HELD;
    case 'UNAVAILABLE':
      return EXIT.UNAVAILABLE;
    case 'INTERRUPTED':
      return EXIT.SIGINT;
  }
}
