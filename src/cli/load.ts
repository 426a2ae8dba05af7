/**
 * Loading a jobs file from disk: the I/O edge in front of the pure parser. Plugins named by
 * PLUGINS= or --plugin are imported here, before the file is parsed, so their watchers validate.
 * Like cron, it refuses a jobs file or plugin that users other than its owner (and root) can
 * write: whoever can write it can run commands as iamwatch.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { IamwatchError } from '../base/errors.js';
import { hasErrors, type JobsFile } from '../jobsfile/job.js';
import { parseJobsFile } from '../jobsfile/parse.js';
import { WatcherRegistry } from '../watchers/registry.js';

export interface LoadOptions {
  config?: string;
  plugins?: string[];
  /** Load files that other users can write (`--allow-writable-config`). */
  allowWritable?: boolean;
  now?: number;
}

/** What every command that reads a jobs file takes on its command line. */
export interface ConfigFlags {
  config?: string;
  plugin?: string[];
  allowWritableConfig?: boolean;
}

export const configFrom = (o: ConfigFlags): LoadOptions => ({ config: o.config, plugins: o.plugin, allowWritable: o.allowWritableConfig });

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

const octal = (mode: number): string => `0${(mode & 0o777).toString(8)}`;

/**
 * Refuses `file` (a jobs file or plugin) when users other than its owner can write it, or can
 * replace it through its directory (writable by others, without the sticky bit that stops them).
 * A read-only mount does not change that: the same file may be writable where it is mounted from.
 */
export async function checkTrusted(file: string, what: string): Promise<void> {
  let st;
  try {
    st = await stat(file);
  } catch {
    return; // reading it reports the problem
  }
  const advice = '; whoever can write it can run commands as iamwatch';
  const flag = '(or pass --allow-writable-config to load it anyway)';
  if ((st.mode & 0o022) !== 0) {
    throw new IamwatchError('INVALID_INPUT', `${what} ${file} is writable by other users (mode ${octal(st.mode)})${advice}. Fix it with: chmod go-w ${file} ${flag}`);
  }
  const dir = path.dirname(path.resolve(file));
  const d = await stat(dir).catch(() => null);
  if (d && (d.mode & 0o022) !== 0 && (d.mode & 0o1000) === 0) {
    throw new IamwatchError('INVALID_INPUT', `${what} ${file} is in a directory other users can write (${dir}, mode ${octal(d.mode)}), so they can replace it${advice}. Fix it with: chmod go-w ${dir} ${flag}`);
  }
}

/** Reads, loads plugins and parses. Diagnostics are returned, not thrown. */
export async function loadJobsFile(options: LoadOptions): Promise<Loaded> {
  const file = configPath(options.config);
  if (!options.allowWritable) await checkTrusted(file, 'jobs file');
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
    if (!options.allowWritable) for (const p of pluginPaths) await checkTrusted(p, 'plugin');
    const { loadPlugins } = await import('../watchers/plugins.js');
    await loadPlugins(registry, pluginPaths, jobsFile.settings.pluginTimeoutMs);
    jobsFile = parse();
  }
  return { jobsFile, registry };
}

/**
 * Reads and parses the jobs file again for a reload, with the watchers already registered (plugins
 * are loaded once, at start: a change to PLUGINS needs a restart). Diagnostics are returned.
 */
export async function reloadJobsFile(file: string, registry: WatcherRegistry, options: Pick<LoadOptions, 'allowWritable'>): Promise<{ jobsFile: JobsFile; text: string }> {
  if (!options.allowWritable) await checkTrusted(file, 'jobs file');
  const text = await readJobsFile(file);
  return { jobsFile: parseJobsFile({ text, file, env: process.env, watchers: registry, now: Date.now() }), text };
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
