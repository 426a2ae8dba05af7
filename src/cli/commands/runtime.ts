/**
 * What `run` and `once` both set up around the scheduler: the logger, the coordination store
 * and the database (only when a job's watcher needs it), and closing them in the right order.
 */
import { hostname } from 'node:os';
import type { Knex } from 'knex';
import { openStore } from '../../coordination/open-store.js';
import type { CoordinationStore } from '../../coordination/store.js';
import { errorMessage } from '../../base/errors.js';
import type { JobSpec } from '../../jobsfile/job.js';
import type { Settings } from '../../jobsfile/settings.js';
import { stateDir } from '../../coordination/embedded/state-dir.js';
import { createLogger, flushLogs, type LogFormat } from '../../observe/logger.js';
import { beforeExit } from '../exit-hooks.js';
import type { Logger } from '../../base/logger.js';
import type { WatcherRegistry } from '../../watchers/registry.js';

export const defaultInstanceId = (): string => `${hostname()}:${process.pid}`;

export interface Runtime {
  log: Logger;
  store: CoordinationStore;
  db?: Knex;
  /** Closes Redis, then the database: never under a running job. */
  close(): Promise<void>;
}

export async function openRuntime(o: {
  /** The jobs file: without REDIS_URL the store lives in its state directory. */
  file: string;
  settings: Settings;
  jobs: readonly JobSpec[];
  registry: WatcherRegistry;
  instance: string;
  format: LogFormat;
  destination?: NodeJS.WritableStream;
  color?: boolean;
}): Promise<Runtime> {
  const log = await createLogger({ format: o.format, level: o.settings.logLevel, instance: o.instance, destination: o.destination, color: o.color });
  beforeExit(() => flushLogs());
  const store = await openStore(o.settings.redisUrl, o.settings.prefix, log, { stateDir: stateDir(o.file), jobsFile: o.file, redisTls: o.settings.redisTls });
  let db: Knex | undefined;
  if (o.jobs.some((j) => o.registry.get(j.watcher)?.database)) {
    const { openDatabase } = await import('../../db/connect.js');
    try {
      db = await openDatabase(o.settings.databaseUrl, { log });
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return {
    log,
    store,
    db,
    async close() {
      await store.close().catch((err: unknown) => log.warn({ event: 'close-failed', what: 'redis', err: errorMessage(err) }, 'closing Redis failed'));
      await db?.destroy().catch((err: unknown) => log.warn({ event: 'close-failed', what: 'database', err: errorMessage(err) }, 'closing the database failed'));
    },
  };
}
