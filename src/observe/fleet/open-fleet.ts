/** Chooses where the fleet's history and heartbeats live, following the coordination store. */
import type { Database } from '../../coordination/embedded/sqlite.js';
import type { CoordinationStore } from '../../coordination/store.js';
import type { RedisConnection } from '../../coordination/redis/client.js';
import type { Settings } from '../../jobsfile/settings.js';
import { FileFleet, stateDir } from './file-fleet.js';
import type { FleetStore } from './fleet-store.js';
import { RedisFleet } from './redis-fleet.js';

export function openFleet(store: CoordinationStore, settings: Settings, jobsFile: string, _jobCount: number): FleetStore {
  const retention = { limit: settings.historyLimit, maxAgeMs: settings.historyMaxAgeMs };
  if (store.kind === 'redis' && settings.redisUrl) {
    const { connection } = store as CoordinationStore & { connection: RedisConnection };
    return new RedisFleet(connection, settings.prefix, retention, settings.redisUrl);
  }
  // The embedded store: history and heartbeats live in its state database.
  const { db } = store as CoordinationStore & { db?: Database };
  if (!db) throw new Error(`no fleet store for a ${store.kind} coordination store without its state database`);
  return new FileFleet(stateDir(jobsFile), db, retention);
}
