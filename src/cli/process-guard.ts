/**
 * What `run` and `once` do with errors nobody caught. Watcher code is untrusted: a rejection
 * from one of its timers, a `throw` in a callback, `throw null` — anything raised inside a
 * watcher's scope (scheduler/watcher-scope.ts) is logged against its job and the process goes
 * on. Anything else is iamwatch's own bug: `crashed` settles, so the command can release the
 * locks it holds before it ends with the internal-error exit code (70).
 */
import { errorMessage, errorStack } from '../base/errors.js';
import type { Logger } from '../base/logger.js';
import { currentWatcherScope } from '../scheduler/watcher-scope.js';

export interface ProcessGuard {
  /** Resolves with the first error that is not a watcher's. */
  crashed: Promise<unknown>;
  dispose(): void;
}

export function guardProcess(log: Logger): ProcessGuard {
  let crash!: (err: unknown) => void;
  let crashedAlready = false;
  const crashed = new Promise<unknown>((resolve) => (crash = resolve));
  const handle = (kind: 'exception' | 'rejection') => (err: unknown): void => {
    const scope = currentWatcherScope();
    if (scope) {
      log.error(
        { event: 'watcher-error', job: scope.job, occurrence: scope.occurrence, fence: scope.fence, err: errorMessage(err), kind },
        `watcher ${scope.watcher} raised an uncaught ${kind} outside its run's promise: ${errorMessage(err)}; recorded, iamwatch goes on`,
      );
      return;
    }
    if (crashedAlready) return;
    crashedAlready = true;
    log.error({ event: 'internal-error', kind, err: errorStack(err) }, `internal error (uncaught ${kind}): releasing held locks, then exiting`);
    crash(err);
  };
  const onException = handle('exception');
  const onRejection = handle('rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return {
    crashed,
    dispose: () => {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    },
  };
}
