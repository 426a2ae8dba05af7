/**
 * The trigger queue (../triggers.ts) of the embedded default, in the state database beside the
 * claims (schema.ts: triggers), so every iamwatch process of the jobs file on this machine shares
 * it: a row per request, whose state goes pending -> taken -> done. Each write is one short BEGIN
 * IMMEDIATE transaction, so taking is atomic across processes (one UPDATE of a pending row: one
 * process changes it, the others find it taken); withdrawing deletes the row only while it is
 * pending. The clock is the store's (this machine's); an expired request stays pending (past its
 * expiresAt) and is never taken. A row is kept TRIGGER_KEEP_MS after its state last changed (a
 * pending one: after it expires), then reads as unknown; old rows are deleted by the writes.
 * The semantics mirror the Redis store's (../redis/redis-triggers.ts).
 */
import { IamwatchError } from '../../base/errors.js';
import { internalError } from '../internal-error.js';
import { TRIGGER_KEEP_MS, type TriggerProgress, type TriggerQueue, type TriggerRequest, type TriggerResult, type TriggerState } from '../triggers.js';
import type { Database, Statement } from './sqlite.js';

const COLUMNS = 'id, job, requested_by AS by, requested_at AS at, expires_at AS expiresAt, state, instance, state_at AS stateAt, result';

const SQL = {
  forget: 'DELETE FROM triggers WHERE kept_until <= ?',
  row: `SELECT ${COLUMNS} FROM triggers WHERE id = ? AND kept_until > ?`,
  insert: "INSERT INTO triggers (id, job, requested_by, requested_at, expires_at, state, kept_until) VALUES (?, ?, ?, ?, ?, 'pending', ?)",
  pending: `SELECT ${COLUMNS} FROM triggers WHERE state = 'pending' AND expires_at > ? AND kept_until > ? ORDER BY requested_at, id`,
  take: "UPDATE triggers SET state = 'taken', instance = ?, state_at = ?, kept_until = ? WHERE id = ? AND state = 'pending' AND expires_at > ?",
  report: 'UPDATE triggers SET state = ?, state_at = ?, result = ?, kept_until = ? WHERE id = ?',
  withdraw: "DELETE FROM triggers WHERE id = ? AND state = 'pending'",
} as const;

interface Row {
  id: string;
  job: string;
  by: string;
  at: number;
  expiresAt: number;
  state: string;
  instance: string | null;
  stateAt: number | null;
  result: string | null;
}

const SOURCE = 'the state database\'s triggers table';

/** The type of each TriggerResult field: a result read back must have every one. */
const RESULT_FIELDS: Record<keyof TriggerResult, 'string' | 'number' | 'string?' | 'number?'> = {
  outcome: 'string',
  reason: 'string?',
  holder: 'string?',
  occurrence: 'string?',
  fence: 'number?',
  startedAt: 'string?',
  endedAt: 'string?',
  durationMs: 'number?',
  attempts: 'number',
  summary: 'string?',
  error: 'string?',
};

/** A result as stored, read strictly (every field, of its type; unknown ones left out). */
function resultOf(json: string | null, row: Row): TriggerResult {
  let v: unknown;
  try {
    v = JSON.parse(json ?? '');
  } catch {
    throw internalError(SOURCE, `the result of ${row.id} is not JSON`, row);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw internalError(SOURCE, `the result of ${row.id} is not a JSON object`, row);
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(RESULT_FIELDS)) {
    const x = o[name];
    const ok = (type.endsWith('?') && x === null) || typeof x === type.replace('?', '');
    if (!ok) throw internalError(SOURCE, `the result of ${row.id} has no ${type.replace('?', '')} ${name}`, row);
    out[name] = x;
  }
  return out as unknown as TriggerResult;
}

const requestOf = (r: Row): TriggerRequest => ({ id: r.id, job: r.job, by: r.by, at: r.at, expiresAt: r.expiresAt });

function stateOf(row: Row): TriggerState {
  const request = requestOf(row);
  if (row.state === 'pending') return { state: 'pending', request };
  if ((row.state !== 'taken' && row.state !== 'done') || row.instance === null || row.stateAt === null) throw internalError(SOURCE, `the row of ${row.id} is not a trigger's state`, row);
  const taken = { request, instance: row.instance, at: row.stateAt };
  return row.state === 'taken' ? { state: 'taken', ...taken } : { state: 'done', ...taken, result: resultOf(row.result, row) };
}

/** A result as stored: the known fields only (a missing nullable one as null). */
function resultJson(r: TriggerResult): string {
  return JSON.stringify(Object.fromEntries(Object.entries(RESULT_FIELDS).map(([name, type]) => [name, type.endsWith('?') ? (r[name as keyof TriggerResult] ?? null) : r[name as keyof TriggerResult]])));
}

/** A request's ttl as whole ms (at least 1); anything else is a caller's mistake. */
function ttl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new IamwatchError('INVALID_INPUT', `a trigger request's lifetime must be a positive number of ms, not ${ttlMs}`);
  return Math.ceil(ttlMs);
}

export class EmbeddedTriggers implements TriggerQueue {
  readonly #sql: { [K in keyof typeof SQL]: Statement };
  readonly #request: (req: { id: string; job: string; by: string; ttlMs: number }, now: number) => TriggerRequest;
  readonly #take: (id: string, instance: string, now: number) => TriggerRequest | null;
  readonly #report: (id: string, progress: TriggerProgress, now: number) => void;
  readonly #withdraw: (id: string, now: number) => boolean;

  constructor(
    /** The state database, shared with the embedded coordination store. */
    db: Database,
    private readonly now: () => number = Date.now,
  ) {
    this.#sql = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)])) as { [K in keyof typeof SQL]: Statement };
    const tx = <A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => R) => {
      const t = db.transaction(fn);
      return (...args: A) => t.immediate(...args);
    };
    this.#request = tx((req, now) => {
      this.#sql.forget.run(now);
      const known = this.#row(req.id, now);
      if (known) return requestOf(known);
      const request: TriggerRequest = { id: req.id, job: req.job, by: req.by, at: now, expiresAt: now + ttl(req.ttlMs) };
      this.#sql.insert.run(request.id, request.job, request.by, request.at, request.expiresAt, request.expiresAt + TRIGGER_KEEP_MS);
      return request;
    });
    this.#take = tx((id, instance, now) => {
      if (this.#sql.take.run(instance, now, now + TRIGGER_KEEP_MS, id, now).changes !== 1) return null;
      return requestOf(this.#row(id, now)!);
    });
    this.#report = tx((id, progress, now) => {
      this.#sql.forget.run(now);
      const row = this.#row(id, now);
      if (!row) return;
      const current = stateOf(row);
      // Only the instance that took it; a done request never goes back to taken.
      if (current.state === 'pending' || current.instance !== progress.instance || (current.state === 'done' && progress.state === 'taken')) return;
      const result = progress.state === 'done' ? resultJson(progress.result) : null;
      this.#sql.report.run(progress.state, now, result, now + TRIGGER_KEEP_MS, id);
    });
    this.#withdraw = tx((id, now) => {
      this.#sql.forget.run(now);
      return this.#sql.withdraw.run(id).changes === 1;
    });
  }

  #row(id: string, now: number): Row | undefined {
    return this.#sql.row.get(id, now) as Row | undefined;
  }

  async request(req: { id: string; job: string; by: string; ttlMs: number }): Promise<TriggerRequest> {
    return this.#request(req, this.now());
  }

  async pending(): Promise<TriggerRequest[]> {
    const now = this.now();
    return (this.#sql.pending.all(now, now) as Row[]).map(requestOf);
  }

  async take(id: string, instance: string): Promise<TriggerRequest | null> {
    return this.#take(id, instance, this.now());
  }

  async report(id: string, progress: TriggerProgress): Promise<void> {
    this.#report(id, progress, this.now());
  }

  async state(id: string): Promise<TriggerState | null> {
    const row = this.#row(id, this.now());
    return row ? stateOf(row) : null;
  }

  async withdraw(id: string): Promise<boolean> {
    return this.#withdraw(id, this.now());
  }
}
