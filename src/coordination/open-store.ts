/** Chooses the coordination store: Redis when REDIS_URL is set, else the in-process store. */
import type { Logger } from '../observe/log-types.js';
import { redactUrl } from '../observe/redact.js';
import type { CoordinationStore } from './store.js';

/** Waits up to `connectWaitMs` for Redis before returning; commands fail fast until it connects. */
export async function openStore(redisUrl: string | undefined, prefix: string, log: Logger, connectWaitMs = 5_000): Promise<CoordinationStore> {
  if (!redisUrl) {
    const { LocalStore } = await import('./local/local-store.js');
    return new LocalStore();
  }
  const [{ connectRedis }, { RedisStore }] = await Promise.all([import('./redis/client.js'), import('./redis/redis-store.js')]);
  let down = false;
  const connection = connectRedis(redisUrl, {
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
  if (!(await connection.ready(connectWaitMs))) {
    log.warn({ event: 'redis-down', redis: redactUrl(redisUrl) }, `Redis not reachable after ${connectWaitMs} ms; still trying`);
  }
  return new RedisStore(connection, prefix);
}
