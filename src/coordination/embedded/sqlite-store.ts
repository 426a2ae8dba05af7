/**
 * The coordination store of the embedded default (no REDIS_URL): the Redis store's semantics
 * (../store.ts, ../redis/lua/*.lua) in the state database (sqlite.ts), so every iamwatch
 * process using the same jobs file on this machine shares its claims and running locks: two `run`
 * processes run each occurrence once, and `once` never overlaps a scheduled run.
 * Calls of one kind made in the same tick (claims, interval claims, renewals, releases) are
 * coalesced (../batcher.ts) and run in one short BEGIN IMMEDIATE transaction, synchronously:
 * nothing is held across an await, and a tick of due jobs commits once, not once per job. The
 * store's clock is this machine's (Date.now()), the same for every process; one reading per batch.
 * Fences and interval generations never go backwards, even when the database file is deleted:
 * a new fence is max(previous + 1, now in ms x 1000), a new generation max(previous + 1, now in ms).
 * Pauses are read inside the claim's own transaction, so a pause holds from its commit on for
 * every process; one whose `until` has passed is deleted there and counts as gone. The trigger
 * queue (`iamwatch trigger`) is embedded-triggers.ts, in the same database and on the same clock.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Batcher, type Settled } from '../batcher.js';
import type { FleetStore, Retention } from '../fleet-store.js';
import { CLAIM_WINDOW_MS, type AcquireResult, type ClaimResult, type CoordinationStore, type Holder, type IntervalClaimResult, type OccurrenceClaim, type Pause, type PauseRequest, type StoreDescription } from '../store.js';
import type { TriggerQueue } from '../triggers.js';
import { EmbeddedFleet } from './embedded-fleet.js';
import { EmbeddedTriggers } from './embedded-triggers.js';
import { openStateDatabase, type Database, type Statement } from './sqlite.js';

interface StateRow {
  fence: number;
  gen: number;
  endedAt: number | null;
}

interface RunningRow {
  holder: string;
  deadline: number;
}

interface PauseRow {
  job: string;
  by: string;
  at: number;
  until: number | null;
  reason: string | null;
}

const pauseOfRow = (r: PauseRow): Pause => ({ by: r.by, at: r.at, until: r.until, reason: r.reason });

const SQL = {
  lastDead: 'SELECT MAX(deadline) AS last FROM running WHERE job = ? AND deadline <= ?',
  deleteDead: 'DELETE FROM running WHERE job = ? AND deadline <= ?',
  markDeadEnded: 'UPDATE job_state SET ended_gen = gen, ended_at = ? WHERE job = ? AND ended_gen < gen',
  state: 'SELECT fence, gen, ended_at AS endedAt FROM job_state WHERE job = ?',
  isClaimed: 'SELECT 1 AS x FROM claims WHERE job = ? AND occurrence = ?',
  newest: 'SELECT MAX(occurrence) AS newest FROM claims WHERE job = ?',
  addClaim: 'INSERT INTO claims (job, occurrence) VALUES (?, ?)',
  trimClaims: 'DELETE FROM claims WHERE job = ? AND occurrence < ?',
  firstRunning: 'SELECT holder, deadline FROM running WHERE job = ? ORDER BY deadline, token LIMIT 1',
  lock: 'INSERT INTO running (job, token, deadline, holder) VALUES (?, ?, ?, ?)',
  saveCounters: 'INSERT INTO job_state (job, fence, gen) VALUES (?, ?, ?) ON CONFLICT (job) DO UPDATE SET fence = excluded.fence, gen = excluded.gen',
  renew: 'UPDATE running SET deadline = ? WHERE job = ? AND token = ? AND deadline > ?',
  unlock: 'DELETE FROM running WHERE job = ? AND token = ?',
  recordEnd: 'INSERT INTO job_state (job, ended_at) VALUES (?, ?) ON CONFLICT (job) DO UPDATE SET ended_gen = gen, ended_at = excluded.ended_at',
  running: 'SELECT holder, deadline FROM running WHERE job = ? AND deadline > ? ORDER BY deadline, token',
  pauseOf: 'SELECT job, paused_by AS by, paused_at AS at, until_at AS until, reason FROM pauses WHERE job = ?',
  pausesAll: 'SELECT job, paused_by AS by, paused_at AS at, until_at AS until, reason FROM pauses WHERE until_at IS NULL OR until_at > ?',
  setPause:
    'INSERT INTO pauses (job, paused_by, paused_at, until_at, reason) VALUES (?, ?, ?, ?, ?) ON CONFLICT (job) DO UPDATE SET paused_by = excluded.paused_by, paused_at = excluded.paused_at, until_at = excluded.until_at, reason = excluded.reason',
  deletePause: 'DELETE FROM pauses WHERE job = ?',
} as const;

function parseHolder(json: string): Holder | null {
  try {
    return JSON.parse(json) as Holder;
  } catch {
    return null;
  }
}

type Won = { fence: number; token: string; generation: number };
type IntervalRequest = { job: string; holder: Holder; ttlMs: number; intervalMs: number };
type RenewRequest = { job: string; token: string; ttlMs: number };
type ReleaseRequest = { job: string; token: string; ended: boolean };

const settled = <R>(values: R[]): Promise<Array<Settled<R>>> => Promise.resolve(values.map((value) => ({ value })));

export class SqliteStore implements CoordinationStore {
  readonly description: StoreDescription;
  readonly connected = true;
  readonly #sql: { [K in keyof typeof SQL]: Statement };
  readonly #claims: Batcher<OccurrenceClaim, ClaimResult>;
  readonly #intervalClaims: Batcher<IntervalRequest, IntervalClaimResult>;
  readonly #renewals: Batcher<RenewRequest, boolean>;
  readonly #releases: Batcher<ReleaseRequest, void>;
  readonly #acquire: (req: { job: string; holder: Holder; ttlMs: number }, now: number) => AcquireResult;
  readonly #pause: (jobs: readonly string[], req: PauseRequest, now: number) => Map<string, Pause>;
  readonly #resume: (jobs: readonly string[], now: number) => Map<string, Pause>;
  #triggers: EmbeddedTriggers | null = null;

  /** Opens the state database `file` (see sqlite.ts), or a private one with `:memory:`. */
  static open(file: string, now: () => number = Date.now): SqliteStore {
    return new SqliteStore(openStateDatabase(file), file, now);
  }

  constructor(
    /** The state database, shared with the embedded fleet store (history and heartbeats). */
    readonly db: Database,
    readonly file: string,
    private readonly now: () => number = Date.now,
  ) {
    const location = file === ':memory:' ? file : path.dirname(file);
    this.description = { kind: 'embedded', location, label: `embedded store in ${location} (this machine only)` };
    this.#sql = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)])) as { [K in keyof typeof SQL]: Statement };
    // Each batch: one transaction, one clock reading.
    const claims = this.#tx((reqs: OccurrenceClaim[], now: number) => reqs.map((r) => this.#claimTx(r, now)));
    const intervals = this.#tx((reqs: IntervalRequest[], now: number) => reqs.map((r) => this.#claimIntervalTx(r, now)));
    const renewals = this.#tx((reqs: RenewRequest[], now: number) => reqs.map((r) => this.#sql.renew.run(now + r.ttlMs, r.job, r.token, now).changes === 1));
    const releases = this.#tx((reqs: ReleaseRequest[], now: number) =>
      reqs.forEach((r) => {
        if (this.#sql.unlock.run(r.job, r.token).changes === 1 && r.ended) this.#sql.recordEnd.run(r.job, now);
      }),
    );
    this.#claims = new Batcher((reqs) => settled(claims(reqs, this.now())), { name: 'claim' });
    this.#intervalClaims = new Batcher((reqs) => settled(intervals(reqs, this.now())), { name: 'interval claim' });
    this.#renewals = new Batcher((reqs) => settled(renewals(reqs, this.now())), { name: 'renew' });
    this.#releases = new Batcher((reqs) => (releases(reqs, this.now()), settled(reqs.map(() => undefined))), { name: 'release' });
    this.#acquire = this.#tx((req, now) => this.#acquireTx(req, now));
    this.#pause = this.#tx((jobs: readonly string[], req: PauseRequest, now: number) => {
      const pause: Pause = { by: req.by, at: now, until: req.until, reason: req.reason };
      const out = new Map<string, Pause>();
      for (const job of jobs) {
        this.#sql.setPause.run(job, pause.by, pause.at, pause.until, pause.reason);
        out.set(job, pause);
      }
      return out;
    });
    this.#resume = this.#tx((jobs: readonly string[], now: number) => {
      const out = new Map<string, Pause>();
      for (const job of jobs) {
        const pause = this.#pauseOf(job, now);
        if (pause) out.set(job, pause);
        this.#sql.deletePause.run(job);
      }
      return out;
    });
  }

  #tx<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    const t = this.db.transaction(fn);
    return (...args: A) => t.immediate(...args);
  }

  /** Locks whose deadline passed belong to dead runs; an interval run that died ended at its deadline. */
  #sweep(job: string, now: number): void {
    const { last } = this.#sql.lastDead.get(job, now) as { last: number | null };
    if (last === null) return;
    this.#sql.deleteDead.run(job, now);
    this.#sql.markDeadEnded.run(last, job);
  }

  /** The job's pause, or null; one whose `until` has passed is deleted (inside the caller's transaction). */
  #pauseOf(job: string, now: number): Pause | null {
    const row = this.#sql.pauseOf.get(job) as PauseRow | undefined;
    if (!row) return null;
    if (row.until !== null && row.until <= now) {
      this.#sql.deletePause.run(job);
      return null;
    }
    return pauseOfRow(row);
  }

  #state(job: string): StateRow {
    return (this.#sql.state.get(job) as StateRow | undefined) ?? { fence: 0, gen: 0, endedAt: null };
  }

  #firstRunning(job: string, now: number): { holder: Holder | null; ms: number } | null {
    const row = this.#sql.firstRunning.get(job) as RunningRow | undefined;
    return row ? { holder: parseHolder(row.holder), ms: row.deadline - now } : null;
  }

  /** Takes a running lock with the next fence (and, for interval runs, the next generation). */
  #lock(job: string, holder: Holder, ttlMs: number, now: number, interval: boolean): Won {
    const s = this.#state(job);
    const fence = Math.max(s.fence + 1, now * 1000);
    const generation = interval ? Math.max(s.gen + 1, now) : s.gen;
    const token = randomUUID();
    this.#sql.saveCounters.run(job, fence, generation);
    this.#sql.lock.run(job, token, now + ttlMs, JSON.stringify(holder));
    return { fence, token, generation };
  }

  #claimTx(req: OccurrenceClaim, now: number): ClaimResult {
    const { job, occurrence: id } = req;
    this.#sweep(job, now);
    if (this.#sql.isClaimed.get(job, id)) return { kind: 'taken' };
    const { newest: top } = this.#sql.newest.get(job) as { newest: number | null };
    if (top !== null && id <= top - CLAIM_WINDOW_MS) return { kind: 'late' };
    const newest = top === null ? id : Math.max(top, id);
    // The one-way door: recorded before anything else can fail.
    this.#sql.addClaim.run(job, id);
    this.#sql.trimClaims.run(job, newest - CLAIM_WINDOW_MS);
    const pause = this.#pauseOf(job, now);
    if (pause) return { kind: 'paused', pause };
    if (req.skipIfRunning) {
      const busy = this.#firstRunning(job, now);
      if (busy) return { kind: 'running', holder: busy.holder };
    }
    const { fence, token } = this.#lock(job, req.holder, req.ttlMs, now, false);
    return { kind: 'won', fence, token };
  }

  #claimIntervalTx(req: IntervalRequest, now: number): IntervalClaimResult {
    this.#sweep(req.job, now);
    const busy = this.#firstRunning(req.job, now);
    if (busy) return { kind: 'running', ...busy };
    const { endedAt } = this.#state(req.job);
    const due = endedAt === null ? now : endedAt + req.intervalMs;
    if (due > now) return { kind: 'wait', ms: due - now };
    const pause = this.#pauseOf(req.job, now);
    if (pause) return { kind: 'paused', pause };
    return { kind: 'won', due, ...this.#lock(req.job, req.holder, req.ttlMs, now, true) };
  }

  #acquireTx(req: { job: string; holder: Holder; ttlMs: number }, now: number): AcquireResult {
    this.#sweep(req.job, now);
    const pause = this.#pauseOf(req.job, now);
    if (pause) return { kind: 'paused', pause };
    const busy = this.#firstRunning(req.job, now);
    if (busy) return { kind: 'running', holder: busy.holder };
    const { fence, token } = this.#lock(req.job, req.holder, req.ttlMs, now, false);
    return { kind: 'won', fence, token };
  }

  claim(req: OccurrenceClaim): Promise<ClaimResult> {
    return this.#claims.submit(req);
  }

  claimInterval(req: IntervalRequest): Promise<IntervalClaimResult> {
    return this.#intervalClaims.submit(req);
  }

  async acquire(req: { job: string; holder: Holder; ttlMs: number }): Promise<AcquireResult> {
    return this.#acquire(req, this.now());
  }

  renew(job: string, token: string, ttlMs: number): Promise<boolean> {
    return this.#renewals.submit({ job, token, ttlMs });
  }

  release(job: string, token: string, ended: boolean): Promise<void> {
    return this.#releases.submit({ job, token, ended });
  }

  async pause(jobs: readonly string[], req: PauseRequest): Promise<Map<string, Pause>> {
    return this.#pause([...new Set(jobs)], req, this.now());
  }

  async resume(jobs: readonly string[]): Promise<Map<string, Pause>> {
    return this.#resume([...new Set(jobs)], this.now());
  }

  /** One read of the (small) pauses table, whatever the number of jobs. */
  async pauses(jobs: readonly string[]): Promise<Map<string, Pause>> {
    const wanted = new Set(jobs);
    const out = new Map<string, Pause>();
    for (const row of this.#sql.pausesAll.all(this.now()) as PauseRow[]) if (wanted.has(row.job)) out.set(row.job, pauseOfRow(row));
    return out;
  }

  async newestClaim(job: string): Promise<number | null> {
    return (this.#sql.newest.get(job) as { newest: number | null }).newest;
  }

  async running(job: string): Promise<Array<Holder & { expiresAt: number }>> {
    const out: Array<Holder & { expiresAt: number }> = [];
    for (const row of this.#sql.running.all(job, this.now()) as RunningRow[]) {
      const holder = parseHolder(row.holder);
      if (holder) out.push({ ...holder, expiresAt: row.deadline });
    }
    return out;
  }

  async time(): Promise<number> {
    return this.now();
  }

  fleet(retention: Retention): FleetStore {
    return new EmbeddedFleet(this.description.location, this.db, retention, this.now);
  }

  triggers(): TriggerQueue {
    return (this.#triggers ??= new EmbeddedTriggers(this.db, this.now));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
