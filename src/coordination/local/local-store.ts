/**
 * The coordination store for a single instance (no REDIS_URL): the same semantics as the Redis
 * store, kept in this process's memory with its clock. Only one instance may use it.
 */
import { randomUUID } from 'node:crypto';
import { CLAIM_WINDOW_MS, type AcquireResult, type ClaimResult, type CoordinationStore, type Holder, type IntervalClaimResult, type OccurrenceClaim } from '../store.js';

interface JobState {
  claims: Set<number>;
  newest: number | null;
  fence: number;
  gen: number;
  endedGen: number;
  endedAt: number | null;
  running: Map<string, { holder: Holder; deadline: number }>;
}

export class LocalStore implements CoordinationStore {
  readonly kind = 'local';
  readonly #jobs = new Map<string, JobState>();

  constructor(private readonly now: () => number = Date.now) {}

  #job(job: string): JobState {
    let s = this.#jobs.get(job);
    if (!s) {
      s = { claims: new Set(), newest: null, fence: 0, gen: 0, endedGen: 0, endedAt: null, running: new Map() };
      this.#jobs.set(job, s);
    }
    // Dead runs: an interval run that died counts as ended when its lock expired.
    const now = this.now();
    let lastDeadline = 0;
    for (const [token, r] of s.running) {
      if (r.deadline <= now) {
        s.running.delete(token);
        lastDeadline = Math.max(lastDeadline, r.deadline);
      }
    }
    if (lastDeadline > 0 && s.endedGen < s.gen) {
      s.endedGen = s.gen;
      s.endedAt = lastDeadline;
    }
    return s;
  }

  #firstRunning(s: JobState): { holder: Holder; ms: number } {
    const [first] = s.running.values();
    return { holder: first!.holder, ms: first!.deadline - this.now() };
  }

  #lock(s: JobState, holder: Holder, ttlMs: number): { fence: number; token: string } {
    const token = randomUUID();
    s.running.set(token, { holder, deadline: this.now() + ttlMs });
    return { fence: ++s.fence, token };
  }

  async claim(req: OccurrenceClaim): Promise<ClaimResult> {
    const s = this.#job(req.job);
    if (s.claims.has(req.occurrence)) return { kind: 'taken' };
    if (s.newest !== null && req.occurrence <= s.newest - CLAIM_WINDOW_MS) return { kind: 'late' };
    s.claims.add(req.occurrence);
    s.newest = Math.max(s.newest ?? req.occurrence, req.occurrence);
    for (const id of s.claims) if (id < s.newest - CLAIM_WINDOW_MS) s.claims.delete(id);
    if (req.skipIfRunning && s.running.size > 0) return { kind: 'running', holder: this.#firstRunning(s).holder };
    return { kind: 'won', ...this.#lock(s, req.holder, req.ttlMs) };
  }

  async claimInterval(req: { job: string; holder: Holder; ttlMs: number; intervalMs: number }): Promise<IntervalClaimResult> {
    const s = this.#job(req.job);
    if (s.running.size > 0) return { kind: 'running', ...this.#firstRunning(s) };
    const due = s.endedAt === null ? this.now() : s.endedAt + req.intervalMs;
    if (due > this.now()) return { kind: 'wait', ms: due - this.now() };
    const lock = this.#lock(s, req.holder, req.ttlMs);
    return { kind: 'won', ...lock, generation: ++s.gen, due };
  }

  async acquire(req: { job: string; holder: Holder; ttlMs: number }): Promise<AcquireResult> {
    const s = this.#job(req.job);
    if (s.running.size > 0) return { kind: 'running', holder: this.#firstRunning(s).holder };
    return { kind: 'won', ...this.#lock(s, req.holder, req.ttlMs) };
  }

  async renew(job: string, token: string, ttlMs: number): Promise<boolean> {
    const r = this.#job(job).running.get(token);
    if (!r) return false;
    r.deadline = this.now() + ttlMs;
    return true;
  }

  async release(job: string, token: string, ended: boolean): Promise<void> {
    const s = this.#job(job);
    if (s.running.delete(token) && ended) {
      s.endedAt = this.now();
      s.endedGen = s.gen;
    }
  }

  async newestClaim(job: string): Promise<number | null> {
    return this.#job(job).newest;
  }

  async running(job: string): Promise<Array<Holder & { expiresAt: number }>> {
    return [...this.#job(job).running.values()].map((r) => ({ ...r.holder, expiresAt: r.deadline }));
  }

  async time(): Promise<number> {
    return this.now();
  }

  async close(): Promise<void> {}
}
