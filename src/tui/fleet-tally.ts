/**
 * The fleet's counts for the dashboard, from the run history every instance writes: per job the
 * runs that ended ok and failed (on any instance) since `since`, and the newest finished run
 * wherever it ran. Fed the newest records of each job at every refresh, and this instance's runs
 * as they end (so they show before the history is read again); a record is counted once (by
 * instance, occurrence, fence and time), and only the keys of the last minutes are remembered,
 * so memory stays bounded however long it runs.
 */
import type { RunRecord } from '../coordination/records.js';

/** Records older than the newest seen minus this are not remembered (nor counted if seen later). */
const REMEMBER_MS = 10 * 60_000;

export interface FleetCounts {
  ok: number;
  failed: number;
  /** The newest finished (not skipped) run, on any instance. */
  last?: RunRecord;
}

interface JobState extends FleetCounts {
  seen: Map<string, number>;
  newest: number;
  horizon: number;
}

const keyOf = (r: RunRecord): string => `${r.instance}\u0000${r.occurrence}\u0000${r.fence ?? ''}\u0000${r.at}\u0000${r.outcome}`;

export class FleetTally {
  readonly #jobs = new Map<string, JobState>();

  /** `since`: runs that ended before it are not counted (they may still be the last run). */
  constructor(readonly since: number) {}

  /**
   * Adds a job's newest records (newest first), read with `limit`. Returns false when they may not
   * reach back to what was read before (all new and as many as asked): read more and add again.
   */
  add(job: string, records: readonly RunRecord[], limit: number): boolean {
    const st = this.#job(job);
    const complete = st.seen.size === 0 || records.length < limit || records.some((r) => st.seen.has(keyOf(r)) || r.at <= st.newest);
    for (const r of records) this.#count(st, r);
    st.horizon = Math.max(st.horizon, st.newest - REMEMBER_MS);
    for (const [key, at] of st.seen) if (at < st.horizon) st.seen.delete(key);
    return complete;
  }

  /** Counts a run this instance just saw end (the same record the history gets, so it counts once). */
  note(record: RunRecord): void {
    this.#count(this.#job(record.job), record);
  }

  #job(job: string): JobState {
    let j = this.#jobs.get(job);
    if (!j) this.#jobs.set(job, (j = { ok: 0, failed: 0, seen: new Map(), newest: -Infinity, horizon: -Infinity }));
    return j;
  }

  #count(st: JobState, r: RunRecord): void {
    const key = keyOf(r);
    if (st.seen.has(key) || r.at < st.horizon) return;
    st.seen.set(key, r.at);
    if (r.at > st.newest) st.newest = r.at;
    if (r.outcome === 'skipped') return;
    if (r.at >= this.since) {
      if (r.outcome === 'ok') st.ok++;
      else st.failed++;
    }
    if (!st.last || r.at > st.last.at) st.last = r;
  }

  get(job: string): FleetCounts | undefined {
    const j = this.#jobs.get(job);
    return j ? { ok: j.ok, failed: j.failed, ...(j.last ? { last: j.last } : {}) } : undefined;
  }
}
