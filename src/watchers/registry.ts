/**
 * The watcher registry: the built-ins, listed explicitly, plus plugins added by the loader.
 * No import side effects: a registry is a value built by whoever needs one.
 */
import type { WatcherCatalog } from '../jobsfile/job.js';
import { IamwatchError } from '../base/errors.js';
import { clean } from './clean.js';
import { cleansecret } from './cleansecret.js';
import type { Watcher } from './define-watcher.js';
import { exec } from './exec.js';
import { task } from './task.js';

export const BUILTIN_WATCHERS: readonly Watcher[] = [clean, task, cleansecret, exec] as Watcher[];

export class WatcherRegistry implements WatcherCatalog {
  readonly #byName = new Map<string, Watcher>();

  constructor(watchers: readonly Watcher[] = BUILTIN_WATCHERS) {
    for (const w of watchers) this.add(w);
  }

  add(watcher: Watcher, origin = 'built-in'): void {
    if (this.#byName.has(watcher.name)) {
      throw new IamwatchError('INVALID_INPUT', `watcher "${watcher.name}" from ${origin} is already registered`);
    }
    this.#byName.set(watcher.name, watcher);
  }

  get(name: string): Watcher | undefined {
    return this.#byName.get(name);
  }

  names(): string[] {
    return [...this.#byName.keys()].sort();
  }
}
