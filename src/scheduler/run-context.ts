/**
 * The context a watcher's run sees (ctx). A class, so the getters live on the prototype and
 * the logger is made only when a watcher logs: a busy scheduler makes thousands a second.
 */
import type { Knex } from 'knex';
import { IamwatchError } from '../base/errors.js';
import type { Logger } from '../base/logger.js';
import type { Watcher, WatcherContext } from '../watchers/define-watcher.js';
import type { Attempt } from './attempt.js';
import type { RunControl } from './run-control.js';

export class RunContext implements WatcherContext {
  readonly job: string;
  readonly options: Record<string, unknown>;
  readonly occurrence: Date;
  readonly dryRun: boolean;
  readonly env: Record<string, string>;
  #log: Logger | undefined;

  constructor(
    a: Attempt,
    private readonly watcher: Watcher,
    private readonly run: RunControl,
    readonly attempt: number,
    readonly fence: number,
    readonly instance: string,
    private readonly database: Knex | undefined,
    private readonly runLog: () => Logger,
  ) {
    this.job = a.job.name;
    this.options = a.job.options;
    this.occurrence = new Date(a.nominal);
    this.dryRun = a.dryRun || a.job.dryRun;
    this.env = a.job.env;
  }

  get db(): Knex {
    if (!this.database) throw new IamwatchError('UNAVAILABLE', `watcher ${this.watcher.name} used ctx.db without declaring database: true`);
    return this.database;
  }

  get log(): Logger {
    return (this.#log ??= this.runLog().child({ attempt: this.attempt }));
  }

  get signal(): AbortSignal {
    return this.run.signal;
  }
}
