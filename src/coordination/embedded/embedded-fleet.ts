/**
 * Run history and heartbeats for the embedded default (no REDIS_URL), in the state directory:
 * `.iamwatch/` next to the jobs file by default (IAMWATCH_STATE_DIR overrides it). They live in
 * the jobs file's state database (../../coordination/embedded/sqlite.ts), beside the claims and
 * locks, so every process using the jobs file on this machine writes to them safely. Appends made
 * in the same tick are coalesced (../batcher.ts) into one transaction: each record inserted, its
 * job trimmed to the count limit, then everything trimmed to the age limit.
 */
import { Batcher } from '../batcher.js';
import type { Database, Statement } from './sqlite.js';
import { parseHeartbeat, parseRecord, type Heartbeat, type RunRecord } from '../records.js';
import type { FleetStore, Retention } from '../fleet-store.js';

const SQL = {
  insert: 'INSERT INTO history (job, at, record) VALUES (?, ?, ?)',
  trimJob: 'DELETE FROM history WHERE job = @job AND id IN (SELECT id FROM history WHERE job = @job ORDER BY at DESC, id DESC LIMIT -1 OFFSET @keep)',
  trimAge: 'DELETE FROM history WHERE at < ?',
  history: 'SELECT record FROM history WHERE job = ? AND at >= ? ORDER BY at DESC, id DESC LIMIT ?',
  jobs: 'SELECT DISTINCT job FROM history WHERE at >= ?',
  beat: 'INSERT INTO instances (instance, expires_at, heartbeat) VALUES (?, ?, ?) ON CONFLICT (instance) DO UPDATE SET expires_at = excluded.expires_at, heartbeat = excluded.heartbeat',
  dropExpired: 'DELETE FROM instances WHERE expires_at <= ?',
  leave: 'DELETE FROM instances WHERE instance = ?',
  instances: 'SELECT heartbeat FROM instances WHERE expires_at > ?',
} as const;

export class EmbeddedFleet implements FleetStore {
  readonly #sql: { [K in keyof typeof SQL]: Statement };
  readonly #appends: Batcher<RunRecord, void>;

  constructor(
    /** The state directory, for humans. */
    readonly location: string,
    /** The state database, shared with the embedded coordination store. */
    db: Database,
    private readonly retention: Retention,
    private readonly now: () => number = Date.now,
  ) {
    this.#sql = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)])) as { [K in keyof typeof SQL]: Statement };
    const append = db.transaction((records: RunRecord[]) => {
      for (const record of records) {
        this.#sql.insert.run(record.job, record.at, JSON.stringify(record));
        this.#sql.trimJob.run({ job: record.job, keep: this.retention.limit });
      }
      this.#sql.trimAge.run(this.#cutoff());
    });
    this.#appends = new Batcher(async (records) => {
      append.immediate(records);
      return records.map(() => ({ value: undefined }));
    }, { name: 'history append' });
  }

  #cutoff(): number {
    return this.now() - this.retention.maxAgeMs;
  }

  append(record: RunRecord): Promise<void> {
    return this.#appends.submit(record);
  }

  async history(job: string, limit: number): Promise<RunRecord[]> {
    const rows = this.#sql.history.all(job, this.#cutoff(), Math.min(limit, this.retention.limit)) as Array<{ record: string }>;
    return rows.map((r) => parseRecord(r.record)).filter((r): r is RunRecord => r !== null);
  }

  async historyJobs(): Promise<string[]> {
    return (this.#sql.jobs.all(this.#cutoff()) as Array<{ job: string }>).map((r) => r.job).sort();
  }

  async beat(hb: Heartbeat, ttlMs: number): Promise<void> {
    this.#sql.dropExpired.run(this.now());
    this.#sql.beat.run(hb.instance, hb.lastBeat + ttlMs, JSON.stringify(hb));
  }

  async leave(instance: string): Promise<void> {
    this.#sql.leave.run(instance);
  }

  async instances(): Promise<Heartbeat[]> {
    const rows = this.#sql.instances.all(this.now()) as Array<{ heartbeat: string }>;
    return rows
      .map((r) => parseHeartbeat(r.heartbeat))
      .filter((h): h is Heartbeat => h !== null)
      .sort((a, b) => a.instance.localeCompare(b.instance));
  }
}
