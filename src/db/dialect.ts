/** Which SQL dialect a knex instance speaks, and how each binds a point in time. Pure. */
import type { Knex } from 'knex';

export type Dialect = 'mysql' | 'sqlite';

/**
 * A point in time as the dialect binds it: mysql2 (timezone 'Z', session time zone UTC) takes a
 * Date; on SQLite timestamps are UTC text `YYYY-MM-DD HH:MM:SS`, the format of CURRENT_TIMESTAMP
 * (knex would bind a Date there as epoch milliseconds, which never compares with text).
 */
export function dbTime(db: Knex, at: Date | number): Date | string {
  const d = typeof at === 'number' ? new Date(at) : at;
  return dialectOf(db) === 'sqlite' ? d.toISOString().slice(0, 19).replace('T', ' ') : d;
}

/** Which SQL dialect a knex instance speaks. */
export function dialectOf(db: Knex): Dialect {
  const client = String((db.client as { config: { client?: unknown } }).config.client ?? '');
  return client === 'better-sqlite3' || client === 'sqlite3' ? 'sqlite' : 'mysql';
}
