/**
 * Reloading the jobs file of a running `iamwatch run` (on SIGHUP, or when the file changes):
 * the new file is read and validated first. With any error the running configuration stays:
 * every diagnostic is logged at error level as FILE:LINE:COL and the rejection is counted.
 * Valid, it is applied: jobs added, removed and changed (config-change.ts) go to the scheduler,
 * live settings (NOTIFY_URL, SHUTDOWN_TIMEOUT) take effect, and any other changed setting is
 * logged as needing a restart (the running value stays). Reloads run one at a time; one asked for
 * while another runs follows it.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, IamwatchError } from '../base/errors.js';
import type { Logger } from '../base/logger.js';
import { configHash, diffJobs, diffSettings, type JobsChange, type RunningConfig } from '../jobsfile/config-change.js';
import type { Diagnostic } from '../jobsfile/job.js';
import type { ReloadResult } from '../observe/metrics.js';
import type { WatcherRegistry } from '../watchers/registry.js';
import { checkTrusted, reloadJobsFile } from './load.js';

export type ReloadCause = 'SIGHUP' | 'file changed';

export interface AppliedConfig extends RunningConfig {
  configHash: string;
  change: JobsChange;
}

export interface ReloaderOptions {
  file: string;
  registry: WatcherRegistry;
  allowWritable?: boolean;
  running: RunningConfig;
  log: Logger;
  /** Puts a valid new configuration into effect. */
  apply(next: AppliedConfig): void;
  /** Why a valid configuration cannot be applied live (it needs what only a restart opens), or null. */
  refuse?(next: RunningConfig): string | null;
  /** Every reload's result (metrics, the dashboard). */
  onResult(r: ReloadResult, config?: RunningConfig): void;
}

const where = (d: Diagnostic): string => (d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file);
/** Errors logged one by one per rejected reload; the rest are counted in the summary line. */
const MAX_LOGGED_ERRORS = 100;
const names = (jobs: ReadonlyArray<{ name: string }>): string[] => jobs.map((j) => j.name);

export class Reloader {
  #running: RunningConfig;
  #hash: string;
  #chain: Promise<void> = Promise.resolve();
  #queued = false;
  #stopped = false;

  constructor(private readonly o: ReloaderOptions) {
    this.#running = o.running;
    this.#hash = configHash(o.running);
  }

  /** The hash of the configuration running now. */
  get configHash(): string {
    return this.#hash;
  }

  get running(): RunningConfig {
    return this.#running;
  }

  /** No reload is applied from now on (shutdown); the one in progress, if any, is let finish. */
  stop(): Promise<void> {
    this.#stopped = true;
    return this.#chain;
  }

  /** Asks for a reload; resolves when it (or the one it joined) is done. Never rejects. */
  request(cause: ReloadCause): Promise<void> {
    if (this.#stopped || this.#queued) return this.#chain;
    this.#queued = true;
    this.#chain = this.#chain.then(async () => {
      this.#queued = false;
      try {
        await this.#reload(cause);
      } catch (err) {
        this.o.log.error({ event: 'reload-failed', cause, err: errorMessage(err) }, `reload (${cause}) failed: ${errorMessage(err)}; still running the previous configuration`);
        this.o.onResult({ result: 'rejected', errors: 1 });
      }
    });
    return this.#chain;
  }

  /**
   * Plugins named by a changed PLUGINS load only at a restart, but a file whose plugins could not
   * be loaded then is not valid now either: each must be there, readable and trusted.
   */
  async #pluginProblems(plugins: readonly string[]): Promise<string[]> {
    const running = new Set(this.#running.settings.plugins);
    const problems: string[] = [];
    for (const p of plugins.filter((x) => !running.has(x))) {
      const full = path.resolve(path.dirname(this.o.file), p);
      try {
        await access(full, constants.R_OK);
        if (!this.o.allowWritable) await checkTrusted(full, 'plugin');
      } catch (err) {
        problems.push(`PLUGINS: plugin ${full} cannot be loaded: ${err instanceof IamwatchError ? err.message : errorMessage(err)}`);
      }
    }
    return problems;
  }

  async #reload(cause: ReloadCause): Promise<void> {
    const { log, file } = this.o;
    const { jobsFile } = await reloadJobsFile(file, this.o.registry, { allowWritable: this.o.allowWritable });
    const errors = jobsFile.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length === 0) {
      const plugins = await this.#pluginProblems(jobsFile.settings.plugins);
      errors.push(...plugins.map((message) => ({ file, line: 0, col: 0, severity: 'error' as const, message })));
    }
    if (errors.length > 0) {
      for (const d of errors.slice(0, MAX_LOGGED_ERRORS)) log.error({ event: 'reload-error', file: d.file, line: d.line, col: d.col, err: d.message }, `${where(d)}: error: ${d.message}`);
      log.error(
        { event: 'reload-rejected', cause, file, errors: errors.length, configHash: this.#hash },
        `${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}${errors.length > MAX_LOGGED_ERRORS ? ` (the first ${MAX_LOGGED_ERRORS} logged)` : ''} (${cause}); still running the previous configuration (${this.#hash})`,
      );
      this.o.onResult({ result: 'rejected', errors: errors.length });
      return;
    }
    const settingsChange = diffSettings(this.#running.settings, jobsFile.settings);
    const change = diffJobs(this.#running.jobs, jobsFile.jobs);
    const next: RunningConfig = { settings: settingsChange.settings, jobs: jobsFile.jobs };
    const refusal = this.o.refuse?.(next) ?? null;
    if (refusal) {
      log.error({ event: 'reload-rejected', cause, file, errors: 1, configHash: this.#hash, err: refusal }, `${file} (${cause}): ${refusal}; still running the previous configuration (${this.#hash})`);
      this.o.onResult({ result: 'rejected', errors: 1 });
      return;
    }
    const hash = configHash(next);
    if (settingsChange.needRestart.length > 0) {
      const list = settingsChange.needRestart.join(', ');
      log.warn({ event: 'reload-needs-restart', file, settings: settingsChange.needRestart }, `${list} changed in ${file}: this takes effect only after a restart; running with the previous value until then`);
    }
    if (hash === this.#hash) {
      log.info({ event: 'reload-unchanged', cause, file, configHash: hash }, `${file} reloaded (${cause}): nothing to change`);
      this.o.onResult({ result: 'unchanged' });
      return;
    }
    for (const d of jobsFile.diagnostics) if (d.severity === 'warning') log.warn({ event: 'reload-warning', file: d.file, line: d.line, col: d.col, warning: d.message }, `${where(d)}: warning: ${d.message}`);
    if (this.#stopped) return; // shutting down: nothing to apply it to
    this.#running = next;
    this.#hash = hash;
    this.o.apply({ ...next, configHash: hash, change });
    const summary = [
      change.added.length > 0 ? `added ${names(change.added).join(', ')}` : '',
      change.removed.length > 0 ? `removed ${names(change.removed).join(', ')}` : '',
      change.changed.length > 0 ? `changed ${change.changed.map((c) => c.after.name).join(', ')}` : '',
      settingsChange.applied.length > 0 ? `set ${settingsChange.applied.join(', ')}` : '',
    ].filter(Boolean);
    log.info(
      {
        event: 'reloaded',
        cause,
        file,
        configHash: hash,
        added: names(change.added),
        removed: names(change.removed),
        changed: change.changed.map((c) => c.after.name),
        unchanged: change.unchanged,
        settings: settingsChange.applied,
      },
      `${file} reloaded (${cause}): ${summary.join('; ') || 'settings only'}; ${jobsFile.jobs.length} job${jobsFile.jobs.length === 1 ? '' : 's'} (${hash})`,
    );
    this.o.onResult({ result: 'applied', configHash: hash }, next);
  }
}
