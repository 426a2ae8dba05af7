/**
 * Run history and heartbeats in Redis. Per job a LIST of JSON records, newest first, appended by
 * lua/history-append-1.lua in one round trip: LPUSH, LTRIM to the count limit, PEXPIRE to the age
 * limit (an idle job's list disappears), and records past the age limit popped from the tail. Heartbeats: a STRING per instance with a
 * PX expiry plus a ZSET of instance ids by last beat. Only single-key commands: Cluster-safe.
 */
import type { RedisConnection } from './client.js';
import { historyJobsKey, instanceKeys, jobKeys } from './keys.js';
import { evalScript, SCRIPTS } from './scripts.js';
import { parseHeartbeat, parseRecord, type Heartbeat, type RunRecord } from '../records.js';
import type { FleetStore, Retention } from '../fleet-store.js';

const asStrings = (reply: unknown): string[] => (Array.isArray(reply) ? reply.map(String) : []);

export class RedisFleet implements FleetStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly retention: Retention,
    /** The redacted Redis URL. */
    readonly location: string,
    private readonly now: () => number = Date.now,
  ) {}

  async append(record: RunRecord): Promise<void> {
    const key = jobKeys(this.prefix, record.job).history;
    const jobs = historyJobsKey(this.prefix);
    // Sent together: one round trip. The jobs set is in another slot, so it is not in the script.
    await Promise.all([
      evalScript(this.redis, SCRIPTS.historyAppend, [key], [JSON.stringify(record), this.retention.limit, this.retention.maxAgeMs, this.now()]),
      this.redis.send(['SADD', jobs, record.job], jobs),
    ]);
  }

  async history(job: string, limit: number): Promise<RunRecord[]> {
    const key = jobKeys(this.prefix, job).history;
    const n = Math.min(limit, this.retention.limit);
    const cutoff = this.now() - this.retention.maxAgeMs;
    const rows = asStrings(await this.redis.send(['LRANGE', key, '0', String(n - 1)], key));
    return rows.map(parseRecord).filter((r): r is RunRecord => r !== null && r.at >= cutoff);
  }

  async historyJobs(): Promise<string[]> {
    const key = historyJobsKey(this.prefix);
    return asStrings(await this.redis.send(['SMEMBERS', key], key)).sort();
  }

  async beat(hb: Heartbeat, ttlMs: number): Promise<void> {
    const k = instanceKeys(this.prefix);
    await Promise.all([
      this.redis.send(['SET', k.instance(hb.instance), JSON.stringify(hb), 'PX', String(ttlMs)], k.instance(hb.instance)),
      this.redis.send(['ZADD', k.instances, String(hb.lastBeat), hb.instance], k.instances),
      // Ids not seen for a long time (crashed instances) leave the index.
      this.redis.send(['ZREMRANGEBYSCORE', k.instances, '-inf', `(${hb.lastBeat - 100 * ttlMs}`], k.instances),
    ]);
  }

  async leave(instance: string): Promise<void> {
    const k = instanceKeys(this.prefix);
    await Promise.all([this.redis.send(['DEL', k.instance(instance)], k.instance(instance)), this.redis.send(['ZREM', k.instances, instance], k.instances)]);
  }

  async instances(): Promise<Heartbeat[]> {
    const k = instanceKeys(this.prefix);
    const ids = asStrings(await this.redis.send(['ZRANGE', k.instances, '0', '-1'], k.instances));
    const beats = await Promise.all(ids.map(async (id) => parseHeartbeat(await this.redis.send(['GET', k.instance(id)], k.instance(id)))));
    return beats.filter((h): h is Heartbeat => h !== null).sort((a, b) => a.instance.localeCompare(b.instance));
  }
}
