/**
 * Which watcher code is running, carried through its async work (timers, promises, child-process
 * callbacks) by AsyncLocalStorage. When something is thrown or rejected with no one to catch it,
 * the process guard asks here: inside a scope it came from a watcher, and is recorded against its
 * job instead of taking the process down; outside every scope it is iamwatch's own bug.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface WatcherScope {
  job: string;
  watcher: string;
  /** The occurrence label, as in log lines. */
  occurrence: string;
  fence: number;
}

const storage = new AsyncLocalStorage<WatcherScope>();

/** Runs `fn` (a watcher's run) inside `scope`. */
export function inWatcherScope<T>(scope: WatcherScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The watcher whose code is running now, if any. */
export function currentWatcherScope(): WatcherScope | undefined {
  return storage.getStore();
}
