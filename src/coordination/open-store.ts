/** Chooses the coordination store: Redis when REDIS_URL is set, else the embedded store in the state directory. */
import type { Logger } from '../base/logger.js';
import { redactUrl } from '../base/redact.js';
import type { RedisTlsParams } from '../jobsfile/redis-url.js';
import type { CoordinationStore } from './store.js';

export interface OpenStoreOptions {
  /** The state directory (stateDir(jobsFile)) and the jobs file: where the embedded store keeps its database. */
  stateDir: string;
  jobsFile: string;
  /** How long to wait for Redis (default 5 s). */
  connectWaitMs?: number;
  /** The REDIS_TLS_* settings (settings.redisTls); REDIS_URL's own parameters override them. */
  redisTls?: RedisTlsParams;
}

/** Waits up to `connectWaitMs` for Redis before returning; commands fail fast until it connects. */
export async function openStore(redisUrl: string | undefined, prefix: string, log: Logger, options: OpenStoreOptions): Promise<CoordinationStore> {
  const { connectWaitMs = 5_000 } = options;
  if (!redisUrl) {
    const [{ SqliteStore }, { stateDatabaseFile }] = await Promise.all([import('./embedded/sqlite-store.js'), import('./embedded/sqlite.js')]);
    return SqliteStore.open(stateDatabaseFile(options.stateDir, options.jobsFile));
  }
  const [{ connectRedis }, { RedisStore }, { withDeadlines, COMMAND_DEADLINE_MS }] = await Promise.all([
    import('./redis/client.js'),
    import('./redis/redis-store.js'),
    import('./redis/deadline.js'),
  ]);
  let down = false;
  // Every command gets iamwatch's own deadline: node-redis stops timing one once it is written.
  const raw = connectRedis(redisUrl, {
    tls: options.redisTls,
    onError: (err) => {
      if (!down) log.error({ event: 'redis-down', redis: redactUrl(redisUrl), err: err.message }, 'Redis unreachable; occurrences are skipped until it is back');
      down = true;
    },
    onReady: () => {
      if (down) log.info({ event: 'redis-up', redis: redactUrl(redisUrl) }, 'Redis reachable again');
      else log.debug({ event: 'redis-up', redis: redactUrl(redisUrl) }, 'connected to Redis');
      down = false;
    },
  });
  const connection = withDeadlines(raw, COMMAND_DEADLINE_MS, {
    onLateReply: (command, lateByMs) => log.debug({ event: 'redis-late-reply', command, lateByMs }, `Redis answered ${command} ${lateByMs} ms after its deadline; the answer was ignored`),
  });
  if (!(await connection.ready(connectWaitMs))) {
    log.warn({ event: 'redis-down', redis: redactUrl(redisUrl) }, `Redis not reachable after ${connectWaitMs} ms; still trying`);
  }
  return new RedisStore(connection, prefix, redactUrl(redisUrl));
}
