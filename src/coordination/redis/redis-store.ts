/**
 * The coordination store on Redis: the fleet's shared state. See ../store.ts for the semantics.
 * Claims, interval claims, renewals and releases made in the same tick are coalesced
 * (../batcher.ts) and sent as one script call each (lua/*-<k>n.lua; on Redis Cluster one call per
 * hash slot, sent together), so the round trips do not grow with the number of jobs due at the
 * same instant; each caller still gets its own answer, parsed strictly (replies.ts).
 * A claim that got no answer in time may still have been recorded (the server runs it when it
 * gets to it): its running lock is then released by token, in the background, so an overlap=skip
 * or interval job is not blocked for a lock lifetime by a run that never started.
 * Pauses are a key per job in the job's hash slot, read by the claim scripts themselves, so a
 * pause holds from the moment it is written, on every instance; pause, resume and reading the
 * pauses of many jobs are one script call per slot (and per DEFAULT_BATCH_SIZE jobs). The trigger
 * queue (`iamwatch trigger`) is redis-triggers.ts, on the same connection.
 */
import { randomUUID } from 'node:crypto';
import { ErrorReply } from '@redis/client';
import { Batcher, DEFAULT_BATCH_SIZE } from '../batcher.js';
import { internalErrorOf } from '../internal-error.js';
import { storeFailureOf } from '../store-failure.js';
import type { FleetStore, Retention } from '../fleet-store.js';
import type { TriggerQueue } from '../triggers.js';
import { CLAIM_WINDOW_MS, type AcquireResult, type ClaimResult, type CoordinationStore, type Holder, type IntervalClaimResult, type OccurrenceClaim, type Pause, type PauseRequest, type StoreDescription, type StorePersistence } from '../store.js';
import { runBatch, type ScriptRequest } from './batch-call.js';
import { RedisFleet } from './redis-fleet.js';
import { RedisTriggers } from './redis-triggers.js';
import type { RedisConnection } from './client.js';
import { renewalDeadlineMs } from './deadline.js';
import { jobKeys } from './keys.js';
import { parseAcquireReply, parseClaimReply, parseFlag, parseHolder, parseIntervalReply, parsePauseReply, type ClaimReply, type IntervalReply } from './replies.js';
import { evalScript, SCRIPTS, type Script } from './scripts.js';

type IntervalRequest = { job: string; holder: Holder; ttlMs: number; intervalMs: number };
type Tokened<T> = T & { token: string };
type RenewRequest = { job: string; token: string; ttlMs: number };
type ReleaseRequest = { job: string; token: string; ended: boolean };

/**
 * A ZRANGE ... WITHSCORES reply as [member, score] pairs: flat [m, s, m, s] under RESP2, already
 * paired [[m, s], ...] under RESP3 (node-redis 6's default protocol).
 */
function scoredPairs(reply: unknown): Array<[string, number]> {
  const r = reply as unknown[];
  if (r.length > 0 && Array.isArray(r[0])) return (r as Array<[unknown, unknown]>).map(([m, s]) => [String(m), Number(s)]);
  const out: Array<[string, number]> = [];
  for (let i = 0; i + 1 < r.length; i += 2) out.push([String(r[i]), Number(r[i + 1])]);
  return out;
}

/** A CONFIG GET reply's value: a map under RESP3, [name, value] under RESP2. */
function configValue(reply: unknown, name: string): string | null {
  if (reply instanceof Map) return reply.has(name) ? String(reply.get(name)) : null;
  if (Array.isArray(reply)) return reply.length >= 2 ? String(reply[1]) : null;
  if (reply && typeof reply === 'object' && name in reply) return String((reply as Record<string, unknown>)[name]);
  return null;
}

/** An INFO section as field -> value. */
function infoFields(reply: unknown): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of String(reply).split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) fields.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return fields;
}

const RELEASE_RETRIES = 3;
const RELEASE_RETRY_MS = 1_000;

export class RedisStore implements CoordinationStore {
  readonly description: StoreDescription;
  #triggers: RedisTriggers | null = null;

  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
    /** The redacted URL, for people. */
    location = 'redis',
  ) {
    this.description = { kind: 'redis', location, label: `Redis ${location} (prefix ${prefix})` };
  }

  get connected(): boolean {
    return this.connection.isReady;
  }

  fleet(retention: Retention): FleetStore {
    return new RedisFleet(this.connection, this.prefix, retention, this.description.location);
  }

  triggers(): TriggerQueue {
    return (this.#triggers ??= new RedisTriggers(this.connection, this.prefix));
  }

  /**
   * A claim that failed without an answer may have been recorded, running lock included: release
   * that lock by its token (compare-and-delete), retrying a few times while Redis is unreachable.
   * Commands on a connection run in order, so the release runs after the claim it undoes. A reply
   * that could not be understood may also have come with a lock: it is released the same way.
   */
  #releaseUnanswered(job: string, token: string, err: unknown): void {
    if (!storeFailureOf(err)?.maybeExecuted && !internalErrorOf(err)) return;
    const attempt = (n: number): void => {
      this.release(job, token, false).catch((e: unknown) => {
        // slow: the release was sent and runs after the claim; down: it may not have been.
        if (storeFailureOf(e)?.store !== 'down' || n >= RELEASE_RETRIES) return;
        setTimeout(() => attempt(n + 1), RELEASE_RETRY_MS).unref();
      });
    };
    attempt(1);
  }

  /** The keys the interval claim and `once`'s lock read: the job's lock keys and its pause. */
  #lockKeys(job: string): string[] {
    const k = jobKeys(this.prefix, job);
    return [k.state, k.running, k.holders, k.pause];
  }

  /**
   * Runs a pause script over `jobs`: one call per slot and per DEFAULT_BATCH_SIZE jobs, all sent
   * together; the jobs whose reply is a pause, with it. Any failed call fails the whole.
   */
  async #pauseCall(script: Script, jobs: readonly string[], shared: string[]): Promise<Map<string, Pause>> {
    const names = [...new Set(jobs)];
    const chunks: string[][] = [];
    for (let i = 0; i < names.length; i += DEFAULT_BATCH_SIZE) chunks.push(names.slice(i, i + DEFAULT_BATCH_SIZE));
    const answers = await Promise.all(
      chunks.map((chunk) => {
        const requests: ScriptRequest[] = chunk.map((job) => ({ keys: [jobKeys(this.prefix, job).pause], args: [] }));
        return runBatch(this.connection, script, requests, shared, undefined, parsePauseReply);
      }),
    );
    const out = new Map<string, Pause>();
    answers.forEach((settled, c) =>
      settled.forEach((a, j) => {
        if ('error' in a) throw a.error;
        if (a.value) out.set(chunks[c]![j]!, a.value);
      }),
    );
    return out;
  }

  readonly #claims = new Batcher<Tokened<OccurrenceClaim>, ClaimReply>(
    (reqs, timeoutMs) => {
      const requests = reqs.map((r) => {
        const k = jobKeys(this.prefix, r.job);
        return { keys: [k.claims, k.state, k.running, k.holders, k.pause], args: [r.token, r.ttlMs, JSON.stringify(r.holder), r.occurrence, r.skipIfRunning ? '1' : '0'] };
      });
      return runBatch(this.connection, SCRIPTS.claimOccurrences, requests, [CLAIM_WINDOW_MS], timeoutMs, parseClaimReply);
    },
    { name: 'claim' },
  );

  readonly #intervalClaims = new Batcher<Tokened<IntervalRequest>, IntervalReply>(
    (reqs, timeoutMs) => {
      const requests = reqs.map((r) => ({ keys: this.#lockKeys(r.job), args: [r.token, r.ttlMs, JSON.stringify(r.holder), r.intervalMs] }));
      return runBatch(this.connection, SCRIPTS.claimIntervals, requests, [], timeoutMs, parseIntervalReply);
    },
    { name: 'interval claim' },
  );

  readonly #renewals = new Batcher<RenewRequest, boolean>(
    (reqs, timeoutMs) => runBatch(this.connection, SCRIPTS.renew, reqs.map((r) => ({ keys: [jobKeys(this.prefix, r.job).running], args: [r.token, r.ttlMs] })), [], timeoutMs, parseFlag),
    { name: 'renew' },
  );

  readonly #releases = new Batcher<ReleaseRequest, boolean>(
    (reqs, timeoutMs) => {
      const requests = reqs.map((r) => {
        const k = jobKeys(this.prefix, r.job);
        return { keys: [k.running, k.holders, k.state], args: [r.token, r.ended ? '1' : '0'] };
      });
      return runBatch(this.connection, SCRIPTS.release, requests, [], timeoutMs, parseFlag);
    },
    { name: 'release' },
  );

  async claim(req: OccurrenceClaim): Promise<ClaimResult> {
    const token = randomUUID();
    try {
      const r = await this.#claims.submit({ ...req, token }, req.timeoutMs);
      return r.kind === 'won' ? { ...r, token } : r;
    } catch (err) {
      this.#releaseUnanswered(req.job, token, err);
      throw err;
    }
  }

  async claimInterval(req: IntervalRequest): Promise<IntervalClaimResult> {
    const token = randomUUID();
    try {
      const r = await this.#intervalClaims.submit({ ...req, token });
      return r.kind === 'won' ? { ...r, token } : r;
    } catch (err) {
      this.#releaseUnanswered(req.job, token, err);
      throw err;
    }
  }

  /** `once` is one run at a time: not batched. */
  async acquire(req: { job: string; holder: Holder; ttlMs: number }): Promise<AcquireResult> {
    const token = randomUUID();
    try {
      const r = parseAcquireReply(SCRIPTS.acquire, await evalScript(this.connection, SCRIPTS.acquire, this.#lockKeys(req.job), [token, req.ttlMs, JSON.stringify(req.holder)]));
      return r.kind === 'won' ? { ...r, token } : r;
    } catch (err) {
      this.#releaseUnanswered(req.job, token, err);
      throw err;
    }
  }

  renew(job: string, token: string, ttlMs: number): Promise<boolean> {
    // Well under ttl/3, so a renewal with no answer has failed before the next one is due.
    return this.#renewals.submit({ job, token, ttlMs }, renewalDeadlineMs(ttlMs));
  }

  async release(job: string, token: string, ended: boolean): Promise<void> {
    await this.#releases.submit({ job, token, ended });
  }

  pause(jobs: readonly string[], req: PauseRequest): Promise<Map<string, Pause>> {
    const json = JSON.stringify({ by: req.by, until: req.until, reason: req.reason });
    return this.#pauseCall(SCRIPTS.pauseSet, jobs, [json, req.until === null ? '' : String(req.until)]);
  }

  resume(jobs: readonly string[]): Promise<Map<string, Pause>> {
    return this.#pauseCall(SCRIPTS.pauseLift, jobs, []);
  }

  pauses(jobs: readonly string[]): Promise<Map<string, Pause>> {
    return this.#pauseCall(SCRIPTS.pauseGet, jobs, []);
  }

  async newestClaim(job: string): Promise<number | null> {
    const [newest] = scoredPairs(await this.connection.send(['ZRANGE', jobKeys(this.prefix, job).claims, '-1', '-1', 'WITHSCORES'], jobKeys(this.prefix, job).claims));
    return newest ? newest[1] : null;
  }

  async running(job: string): Promise<Array<Holder & { expiresAt: number }>> {
    const k = jobKeys(this.prefix, job);
    const [now, entries] = await Promise.all([this.time(), this.connection.send(['ZRANGE', k.running, '0', '-1', 'WITHSCORES'], k.running).then(scoredPairs)]);
    const out: Array<Holder & { expiresAt: number }> = [];
    for (const [token, expiresAt] of entries) {
      if (expiresAt <= now) continue;
      const json = await this.connection.send(['HGET', k.holders, token], k.holders);
      const holder = typeof json === 'string' ? parseHolder(json) : null;
      if (holder) out.push({ ...holder, expiresAt });
    }
    return out;
  }

  async time(): Promise<number> {
    const [s, us] = (await this.connection.send(['TIME'], this.prefix)) as [string, string];
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  /**
   * CONFIG GET appendonly and save; where CONFIG is not allowed (ACLs, managed Redis), INFO
   * persistence; `unknown` when neither is. Redis unreachable: the error is thrown.
   */
  async persistence(): Promise<StorePersistence> {
    try {
      const [aof, save] = await Promise.all([
        this.connection.send(['CONFIG', 'GET', 'appendonly'], this.prefix).then((r) => configValue(r, 'appendonly')),
        this.connection.send(['CONFIG', 'GET', 'save'], this.prefix).then((r) => configValue(r, 'save')),
      ]);
      if (aof === 'yes') return { kind: 'aof', detail: 'appendonly yes' };
      if (save) return { kind: 'rdb', detail: `RDB snapshots only (save "${save}", appendonly no)` };
      if (aof !== null && save !== null) return { kind: 'none', detail: 'appendonly no, save ""' };
    } catch (err) {
      if (!(err instanceof ErrorReply)) throw err;
    }
    let info: Map<string, string>;
    try {
      info = infoFields(await this.connection.send(['INFO', 'persistence'], this.prefix));
    } catch (err) {
      if (!(err instanceof ErrorReply)) throw err;
      return { kind: 'unknown', detail: `neither CONFIG GET nor INFO persistence is allowed (${err.message})` };
    }
    if (info.get('aof_enabled') === '1') return { kind: 'aof', detail: 'INFO persistence: aof_enabled:1' };
    if (Number(info.get('rdb_saves') ?? 0) > 0 || info.get('rdb_bgsave_in_progress') === '1') return { kind: 'rdb', detail: 'INFO persistence: RDB snapshots only, no AOF' };
    if (!info.has('aof_enabled')) return { kind: 'unknown', detail: 'INFO persistence has no aof_enabled field' };
    return { kind: 'none', detail: 'INFO persistence: no AOF, and no RDB snapshot since the server started' };
  }

  async serverRunId(): Promise<string | null> {
    try {
      return infoFields(await this.connection.send(['INFO', 'server'], this.prefix)).get('run_id') ?? null;
    } catch (err) {
      if (err instanceof ErrorReply) return null;
      throw err;
    }
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
