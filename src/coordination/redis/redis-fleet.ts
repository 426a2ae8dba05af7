/**
 * Run history and heartbeats in Redis. Per job a LIST of JSON records, newest first, appended by
 * lua/history-append-1n.lua: LPUSH, LTRIM to the count limit, PEXPIRE to the age limit (an idle
 * job's list disappears), and records past the age limit popped from the tail. Appends made in the
 * same tick are coalesced (../batcher.ts): one script call for all of them (one per hash slot on
 * Redis Cluster) and one SADD of their jobs to the set of jobs with history, sent together.
 * Heartbeats: a STRING per instance with a PX expiry plus a ZSET of instance ids by last beat.
 * Only single-slot commands: Cluster-safe.
 */
import type { RedisConnection } from './client.js';
import { historyJobsKey, instanceKeys, jobKeys } from './keys.js';
import { SCRIPTS } from './scripts.js';
import { runBatch } from './batch-call.js';
import { parseLength } from './replies.js';
import { Batcher, type Settled } from '../batcher.js';
import { parseHeartbeat, parseRecord, type Heartbeat, type RunRecord } from '../records.js';
import type { FleetStore, Retention } from '../fleet-store.js';

const asStrings = (reply: unknown): string[] => (Array.isArray(reply) ? reply.map(String) : []);

export class RedisFleet implements FleetStore {
  readonly #appends = new Batcher<RunRecord, number>((records, timeoutMs) => this.#flushAppends(records, timeoutMs), { name: 'history append' });

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly retention: Retention,
    /** The redacted Redis URL. */
    readonly location: string,
    private readonly now: () => number = Date.now,
  ) {}

  async append(record: RunRecord): Promise<void> {
    await this.#appends.submit(record);
  }

  /** The records' script calls and one SADD, sent together. The jobs set is in another slot, so it is not in the script. */
  async #flushAppends(records: RunRecord[], timeoutMs: number | undefined): Promise<Array<Settled<number>>> {
    const jobs = historyJobsKey(this.prefix);
    const now = this.now();
    const requests = records.map((r) => ({ keys: [jobKeys(this.prefix, r.job).history], args: [JSON.stringify(r), this.retention.limit, this.retention.maxAgeMs, now] }));
    const [answers] = await Promise.all([
      runBatch(this.redis, SCRIPTS.historyAppend, requests, [], timeoutMs, parseLength),
      this.redis.send(['SADD', jobs, ...new Set(records.map((r) => r.job))], jobs, timeoutMs),
    ]);
    return answers;
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
