/**
 * The names a command line may use for a job: the jobs' names in the file and their watchers'
 * names (`once` takes either). Read for shell completion (`iamwatch __complete jobs`) and for
 * "did you mean" after a name was not found. Loading follows the same rules as every command
 * (plugins, who may write the file); the file's diagnostics are not printed.
 */
import { IamwatchError, isIamwatchError } from '../base/errors.js';
import { didYouMean } from '../base/suggest.js';
import type { ConfigFlags } from './load.js';

export interface JobNames {
  jobs: string[];
  watchers: string[];
}

export async function jobNames(flags: ConfigFlags): Promise<JobNames> {
  // Loaded on use: main.ts imports this file for withJobHints, and most commands never need it.
  const { configFrom, loadJobsFile } = await import('./load.js');
  const { jobsFile } = await loadJobsFile(configFrom(flags));
  return { jobs: jobsFile.jobs.map((j) => j.name), watchers: [...new Set(jobsFile.jobs.map((j) => j.watcher))].sort() };
}

/**
 * Runs a command given job `names`; when it fails with a usage error and some of the names are
 * not in the jobs file, the error says which known names are close ("did you mean ...?").
 * `watchers`: the command also takes a watcher name for the one job that uses it (`once`).
 */
export async function withJobHints<T>(names: readonly string[], flags: ConfigFlags & { watchers?: boolean }, command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (e) {
    if (!isIamwatchError(e) || e.code !== 'USAGE' || names.length === 0) throw e;
    const known = await jobNames(flags).catch(() => null);
    if (known === null) throw e;
    const candidates = flags.watchers ? [...known.jobs, ...known.watchers] : known.jobs;
    const unknown = names.filter((n) => !candidates.includes(n));
    const hints = unknown.flatMap((n) => {
      const hint = didYouMean(n, candidates);
      return hint ? [unknown.length === 1 ? hint : `"${n}": ${hint}`] : [];
    });
    if (hints.length === 0) throw e;
    throw new IamwatchError('USAGE', `${e.message}; ${hints.join('; ')}`, e.details);
  }
}
