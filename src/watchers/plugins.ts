/**
 * Loading watcher plugins: ES modules whose default export is a watcher (from defineWatcher) or
 * an array of them. Every problem is reported with the module's path.
 */
import { pathToFileURL } from 'node:url';
import { errorMessage, IamwatchError } from '../base/errors.js';
import { formatDuration } from '../schedule/duration.js';
import { checkWatcher, type Watcher } from './define-watcher.js';
import type { WatcherRegistry } from './registry.js';

/**
 * Imports one module within `timeoutMs`: a plugin whose top-level await never settles would
 * otherwise hang the command (or end it with Node's bare exit 13 and no output).
 */
async function importWithin(file: string, timeoutMs: number): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IamwatchError('INVALID_INPUT', `plugin ${file}: did not finish loading within ${formatDuration(timeoutMs)} (a top-level await that never settles?); PLUGIN_TIMEOUT sets the limit`)), timeoutMs);
  });
  const loading = import(pathToFileURL(file).href) as Promise<Record<string, unknown>>;
  loading.catch(() => {}); // after the deadline its failure has no one left to tell
  try {
    return await Promise.race([loading, deadline]);
  } catch (e) {
    if (e instanceof IamwatchError) throw e;
    const code = (e as NodeJS.ErrnoException | null)?.code;
    const message = errorMessage(e);
    const why = code === 'ERR_MODULE_NOT_FOUND' && message.includes(file) ? 'no such file' : message;
    throw new IamwatchError('INVALID_INPUT', `plugin ${file}: cannot load: ${why}`);
  } finally {
    clearTimeout(timer);
  }
}

export async function loadPlugins(registry: WatcherRegistry, paths: readonly string[], timeoutMs = 10_000): Promise<void> {
  for (const file of paths) {
    const mod = await importWithin(file, timeoutMs);
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
      // A plain object (or a class instance) is fine: fill in what defineWatcher would have,
      // calling its methods on the object itself.
      const watcher = w as Partial<Watcher> & Pick<Watcher, 'name' | 'run'>;
      const grace = watcher.abortGraceMs;
      registry.add(
        {
          name: watcher.name,
          description: watcher.description ?? '',
          options: watcher.options ?? {},
          database: watcher.database ?? false,
          ...(typeof grace === 'function' ? { abortGraceMs: (options: Record<string, unknown>) => grace.call(watcher, options) } : {}),
          run: (ctx) => watcher.run(ctx),
        },
        `plugin ${file}`,
      );
    }
  }
}
