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
  /** The command is ending: from now on errors are reported on stderr (a late bug sets exit code 70). */
  dispose(): void;
}

export function guardProcess(log: Logger): ProcessGuard {
  let crash!: (err: unknown) => void;
  let crashedAlready = false;
  let ended = false;
  const crashed = new Promise<unknown>((resolve) => (crash = resolve));
  /** The logger may already be closed (the command is ending): then one line on stderr. */
  const report = (fields: Record<string, unknown>, message: string): void => {
    try {
      if (!ended) return log.error(fields, message);
    } catch {
      // fall through to stderr
    }
    process.stderr.write(`iamwatch: ${message}\n`);
  };
  const handle = (kind: 'exception' | 'rejection') => (err: unknown): void => {
    const scope = currentWatcherScope();
    if (scope) {
      report(
        { event: 'watcher-error', job: scope.job, occurrence: scope.occurrence, fence: scope.fence, err: errorMessage(err), kind },
        `watcher ${scope.watcher} raised an uncaught ${kind} outside its run's promise: ${errorMessage(err)}; recorded, iamwatch goes on`,
      );
      return;
    }
    if (ended) {
      // The command is over and its locks are released: say so, and exit 70.
      report({}, `internal error after the command finished (uncaught ${kind}); please report it:\n${errorStack(err)}`);
      process.exitCode = 70;
      return;
    }
    if (crashedAlready) return;
    crashedAlready = true;
    report({ event: 'internal-error', kind, err: errorStack(err) }, `internal error (uncaught ${kind}): releasing held locks, then exiting`);
    crash(err);
  };
  process.on('uncaughtException', handle('exception'));
  process.on('unhandledRejection', handle('rejection'));
  return {
    crashed,
    // The handlers stay until the process exits: a watcher's timer may still fire while it ends.
    dispose: () => {
      ended = true;
    },
  };
}
