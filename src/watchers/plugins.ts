/**
 * Loading watcher plugins: ES modules whose default export is a watcher (from defineWatcher) or
 * an array of them. Every problem is reported with the module's path.
 */
import { pathToFileURL } from 'node:url';
import { IamwatchError } from '../errors.js';
import { checkWatcher, type Watcher } from './define-watcher.js';
import type { WatcherRegistry } from './registry.js';

export async function loadPlugins(registry: WatcherRegistry, paths: readonly string[]): Promise<void> {
  for (const file of paths) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ERR_MODULE_NOT_FOUND' && (e as Error).message.includes(file) ? 'no such file' : (e as Error).message;
      throw new IamwatchError('INVALID_INPUT', `plugin ${file}: cannot load: ${why}`);
    }
    if (mod.default === undefined) {
      throw new IamwatchError('INVALID_INPUT', `plugin ${file}: missing default export (write: export default defineWatcher({ ... }))`);
    }
    const watchers = Array.isArray(mod.default) ? mod.default : [mod.default];
    for (const [i, w] of watchers.entries()) {
      const problems = checkWatcher(w);
      if (problems.length > 0) {
        const which = Array.isArray(mod.default) ? `export default[${i}]` : 'the default export';
        throw new IamwatchError('INVALID_INPUT', `plugin ${file}: ${which} ${problems.join('; ')}`);
      }
      registry.add(w as Watcher, `plugin ${file}`);
    }
  }
}
