/**
 * Opening the project's database from DATABASE_URL: knex over mysql2 for `mysql://` and
 * `mariadb://`, better-sqlite3 for `sqlite:PATH` and for the embedded default when the URL is
 * unset. The session time zone is always UTC, so TIMESTAMP values and day arithmetic mean the
 * same instant on every instance. knex and the drivers are imported on first use only.
 */
import path from 'node:path';
import type { Knex } from 'knex';
import { IamwatchError, errorMessage } from '../errors.js';
import type { Logger } from '../observe/log-types.js';
import { redactUrl } from '../observe/redact.js';

/** The database used when DATABASE_URL is unset; its schema is created on first use. */
export const DEFAULT_DATABASE_URL = 'sqlite:./iamwatch.sqlite';

export type Dialect = 'mysql' | 'sqlite';

export interface OpenOptions {
  log?: Logger;
  /** Create the IAM schema in the embedded default database (URL unset); default true. */
  initEmbedded?: boolean;
  /** Milliseconds to wait for a connection (default 10 s). */
  connectTimeoutMs?: number;
}

/** How the database is named in logs and messages: its URL with the password hidden. */
export function databaseLabel(url: string | undefined): string {
  return redactUrl(url || DEFAULT_DATABASE_URL);
}

/** A driver error as text; some (AggregateError from a refused connection) have no message. */
function describe(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  const msg = errorMessage(e);
  if (msg) return msg;
  const inner = (e as { errors?: unknown[] }).errors?.[0];
  if (inner !== undefined) return describe(inner);
  return typeof code === 'string' ? code : String(e);
}

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

function mysqlConfig(url: string, timeoutMs: number): Knex.Config {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new IamwatchError('INVALID_INPUT', `DATABASE_URL is not a URL: ${redactUrl(url)}`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  return {
    client: 'mysql2',
    connection: {
      host: u.hostname || '127.0.0.1',
      port: u.port ? Number(u.port) : 3306,
      user: decodeURIComponent(u.username) || 'root',
      password: decodeURIComponent(u.password),
      ...(database ? { database } : {}),
      timezone: 'Z',
      dateStrings: false,
      supportBigNumbers: true,
      charset: 'utf8mb4',
      connectTimeout: timeoutMs,
    },
    pool: {
      min: 0,
      max: 4,
      afterCreate(conn: { query(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        conn.query("SET time_zone = '+00:00'", (err) => done(err, conn));
      },
    },
    acquireConnectionTimeout: timeoutMs,
  };
}

function sqliteConfig(url: string, timeoutMs: number): Knex.Config {
  const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  if (file === '') throw new IamwatchError('INVALID_INPUT', 'DATABASE_URL sqlite: needs a path, e.g. sqlite:./iamwatch.sqlite');
  return {
    client: 'better-sqlite3',
    connection: { filename: file === ':memory:' ? file : path.resolve(file) },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        try {
          conn.pragma(`busy_timeout = ${timeoutMs}`);
          conn.pragma('journal_mode = WAL');
          done(null, conn);
        } catch (e) {
          done(e as Error, conn);
        }
      },
    },
    acquireConnectionTimeout: timeoutMs,
  };
}

/**
 * Opens and probes the database; an unreachable or unusable one is an `UNAVAILABLE` error whose
 * message names the URL with the password hidden. With `url` unset, the embedded SQLite default
 * is opened and its IAM schema created if missing (unless `initEmbedded: false`).
 */
export async function openDatabase(url: string | undefined, opts: OpenOptions = {}): Promise<Knex> {
  const effective = url === undefined || url === '' ? DEFAULT_DATABASE_URL : url;
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  let config: Knex.Config;
  if (effective.startsWith('sqlite:')) config = sqliteConfig(effective, timeoutMs);
  else if (/^(mysql|mariadb):\/\//.test(effective)) config = mysqlConfig(effective, timeoutMs);
  else throw new IamwatchError('INVALID_INPUT', `unsupported DATABASE_URL ${redactUrl(effective)} (expected mysql://, mariadb:// or sqlite:PATH)`);

  // knex prints pool errors (with stacks) to the console itself; they belong in our log, and
  // the failure reaches the user once, as the UNAVAILABLE error below.
  const quiet = (level: 'debug' | 'warn') => (message: unknown): void => opts.log?.[level]({ knex: String(message) }, 'knex');
  config.log = { warn: quiet('debug'), error: quiet('debug'), deprecate: quiet('warn'), debug: quiet('debug') };
  const { default: knex } = await import('knex');
  const db = knex(config);
  try {
    await db.raw('select 1 as ok');
  } catch (e) {
    await db.destroy().catch(() => undefined);
    throw new IamwatchError('UNAVAILABLE', `cannot open database ${redactUrl(effective)}: ${describe(e)}`);
  }
  opts.log?.debug({ database: redactUrl(effective), dialect: dialectOf(db) }, 'database opened');
  if ((url === undefined || url === '') && opts.initEmbedded !== false) {
    const { initSchema } = await import('./schema.js');
    const report = await initSchema(db, { demo: false });
    if (report.createdTables.length > 0) opts.log?.info({ database: effective, tables: report.createdTables }, 'created the IAM schema in the embedded database');
  }
  return db;
}
