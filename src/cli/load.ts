/**
 * Loading a jobs file from disk: the I/O edge in front of the pure parser. Plugins named by
 * PLUGINS= or --plugin are imported here, before the file is parsed, so their watchers validate.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { IamwatchError } from '../errors.js';
import { hasErrors, type JobsFile } from '../jobsfile/job.js';
import { parseJobsFile } from '../jobsfile/parse.js';
import { WatcherRegistry } from '../watchers/registry.js';

export interface LoadOptions {
  config?: string;
  plugins?: string[];
  now?: number;
}

export interface Loaded {
  jobsFile: JobsFile;
  registry: WatcherRegistry;
}

export function configPath(config: string | undefined): string {
  return config ?? process.env.IAMWATCH_CONFIG ?? './watchers.conf';
}

async function readJobsFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new IamwatchError('INVALID_INPUT', `cannot read jobs file ${file}: ${why}${code === 'ENOENT' ? ' (pass -c FILE or set IAMWATCH_CONFIG)' : ''}`);
  }
}

/** Reads, loads plugins and parses. Diagnostics are returned, not thrown. */
export async function loadJobsFile(options: LoadOptions): Promise<Loaded> {
  const file = configPath(options.config);
  const text = await readJobsFile(file);
  const registry = new WatcherRegistry();
  const now = options.now ?? Date.now();
  const parse = (): JobsFile => parseJobsFile({ text, file, env: process.env, watchers: registry, now });
  let jobsFile = parse();
  // Plugins must be registered before their watchers' lines can validate: read PLUGINS from a
  // first parse (so ${VAR} in it expands as anywhere else), load them, then parse again.
  const pluginPaths = [
    ...(options.plugins ?? []).map((p) => path.resolve(p)),
    ...jobsFile.settings.plugins.map((p) => path.resolve(path.dirname(file), p)),
  ];
  if (pluginPaths.length > 0) {
    const { loadPlugins } = await import('../watchers/plugins.js');
    await loadPlugins(registry, pluginPaths);
    jobsFile = parse();
  }
  return { jobsFile, registry };
}

/** Loads and refuses files with errors: the diagnostics go to stderr and the error says how many. */
export async function loadValidJobsFile(options: LoadOptions, onDiagnostics: (jf: JobsFile) => void): Promise<Loaded> {
  const loaded = await loadJobsFile(options);
  onDiagnostics(loaded.jobsFile);
  if (hasErrors(loaded.jobsFile.diagnostics)) {
    const n = loaded.jobsFile.diagnostics.filter((d) => d.severity === 'error').length;
    throw new IamwatchError('INVALID_INPUT', `${loaded.jobsFile.file}: ${n} error${n === 1 ? '' : 's'}; nothing was started`);
  }
  return loaded;
}
