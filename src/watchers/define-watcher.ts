/**
 * The watcher contract. A watcher is a small typed object: a name, its option declarations, and
 * `run(ctx)`. Cross-cutting behaviour (claiming, lock renewal, timeout, retries, recording) wraps
 * it in the scheduler; a watcher only does its work and honours `ctx.signal`.
 */
import type { Knex } from 'knex';
import { checkDecls, type OptionDecls, type OptionValues } from '../jobsfile/options.js';
import type { Logger } from '../base/logger.js';

export interface WatcherContext<O = Record<string, unknown>> {
  /** Job name from the jobs file. */
  job: string;
  /** The job's watcher options, validated, defaults filled in. */
  options: O;
  /** The project's database (only for watchers declared with `database: true`). */
  db: Knex;
  log: Logger;
  /** Aborted on timeout, lock loss or shutdown: stop between units of work. */
  signal: AbortSignal;
  /** The occurrence's nominal time. */
  occurrence: Date;
  /** Monotonic per job across the fleet: a later run always has a larger token. */
  fence: number;
  /** 1 for the first try, 2 for the first retry, ... */
  attempt: number;
  instance: string;
  /** Report what would change; change nothing. */
  dryRun: boolean;
  /** Crontab variables in effect at the job's line. */
  env: Record<string, string>;
}

/** What a run reports; `summary` is shown in logs, `once`, status and history. */
export interface RunResult {
  summary?: string;
  rows?: number;
  batches?: number;
  dryRun?: boolean;
  [key: string]: unknown;
}

export interface Watcher<O = Record<string, unknown>> {
  name: string;
  description: string;
  options: OptionDecls;
  /** Needs `ctx.db`: the runtime opens the database before the first run. */
  database?: boolean;
  /**
   * How long a run may take to stop after its signal is aborted (timeout, lock loss, shutdown)
   * before iamwatch abandons it and releases its lock (default 1 s).
   */
  abortGraceMs?(options: Record<string, unknown>): number;
  run(ctx: WatcherContext<O>): Promise<RunResult | void>;
}

export interface WatcherDefinition<D extends OptionDecls> {
  name: string;
  description?: string;
  options?: D;
  database?: boolean;
  abortGraceMs?(options: OptionValues<D>): number;
  run(ctx: WatcherContext<OptionValues<D>>): Promise<RunResult | void>;
}

export const WATCHER_NAME_PATTERN = /^[a-z][a-z0-9-]{0,49}$/;

/** Declares a watcher; the option declarations type `ctx.options`. */
export function defineWatcher<const D extends OptionDecls = Record<never, never>>(def: WatcherDefinition<D>): Watcher<OptionValues<D>> {
  return {
    name: def.name,
    description: def.description ?? '',
    options: def.options ?? {},
    database: def.database ?? false,
    ...(def.abortGraceMs ? { abortGraceMs: def.abortGraceMs as (options: Record<string, unknown>) => number } : {}),
    run: def.run,
  };
}

/** Problems with a watcher object (from a plugin), empty when it is well formed. */
export function checkWatcher(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['is not a watcher object (use defineWatcher)'];
  const w = value as Partial<Watcher>;
  const problems: string[] = [];
  if (typeof w.name !== 'string' || !WATCHER_NAME_PATTERN.test(w.name)) problems.push(`has an invalid name ${JSON.stringify(w.name)} (lower-case letters, digits and dashes)`);
  if (typeof w.run !== 'function') problems.push('has no run(ctx) function');
  problems.push(...checkDecls(w.options ?? {}));
  return problems;
}
