/**
 * Opening the project's database from DATABASE_URL: knex over mysql2 for `mysql://` and
 * `mariadb://` (TLS from the URL's ssl-mode, ssl-ca, ssl-cert and ssl-key parameters; any other
 * parameter is an error), better-sqlite3 for `sqlite:PATH` and for the embedded default when the
 * URL is unset. The session time zone is always UTC, so TIMESTAMP values and day arithmetic mean
 * the same instant on every instance. knex and the drivers are imported on first use only.
 */
import path from 'node:path';
import type { Knex } from 'knex';
import { dialectOf } from './dialect.js';
import { IamwatchError, errorMessage } from '../base/errors.js';
import type { Logger } from '../base/logger.js';
import { redactUrl } from '../base/redact.js';
import { checkMysqlIdentity, mysql2Ssl, mysqlTlsHint, parseMysqlTls, type MysqlTls } from './mysql-tls.js';

/** The database used when DATABASE_URL is unset; its schema is created on first use. */
export const DEFAULT_DATABASE_URL = 'sqlite:./iamwatch.sqlite';

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

function mysqlConfig(url: string, timeoutMs: number): { config: Knex.Config; tls: MysqlTls } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new IamwatchError('INVALID_INPUT', `DATABASE_URL is not a URL: ${redactUrl(url)}`);
  }
  const tls = parseMysqlTls(u.search);
  if (typeof tls === 'string') throw new IamwatchError('INVALID_INPUT', `DATABASE_URL: ${tls}`);
  const ssl = mysql2Ssl(tls);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  const host = u.hostname || '127.0.0.1';
  const config: Knex.Config = {
    client: 'mysql2',
    connection: {
      host,
      port: u.port ? Number(u.port) : 3306,
      user: decodeURIComponent(u.username) || 'root',
      password: decodeURIComponent(u.password),
      ...(database ? { database } : {}),
      timezone: 'Z',
      dateStrings: false,
      supportBigNumbers: true,
      charset: 'utf8mb4',
      connectTimeout: timeoutMs,
      ...(ssl ? { ssl } : {}),
    },
    pool: {
      min: 0,
      max: 4,
      afterCreate(conn: { query(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        const wrongName = tls.mode === 'VERIFY_IDENTITY' ? checkMysqlIdentity(conn, host) : undefined;
        if (wrongName) done(wrongName, conn);
        else conn.query("SET time_zone = '+00:00'", (err) => done(err, conn));
      },
    },
    acquireConnectionTimeout: timeoutMs,
  };
  return { config, tls };
}

/** The same configuration without TLS: ssl-mode=PREFERRED against a server that offers none. */
function withoutTls(config: Knex.Config): Knex.Config {
  const { ssl: _ssl, ...connection } = config.connection as Record<string, unknown>;
  return { ...config, connection };
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
  let tls: MysqlTls | undefined;
  if (effective.startsWith('sqlite:')) config = sqliteConfig(effective, timeoutMs);
  else if (/^(mysql|mariadb):\/\//.test(effective)) ({ config, tls } = mysqlConfig(effective, timeoutMs));
  else throw new IamwatchError('INVALID_INPUT', `unsupported DATABASE_URL ${redactUrl(effective)} (expected mysql://, mariadb:// or sqlite:PATH)`);

  // knex prints pool errors (with stacks) to the console itself; they belong in our log, and
  // the failure reaches the user once, as the UNAVAILABLE error below.
  const quiet = (level: 'debug' | 'warn') => (message: unknown): void => opts.log?.[level]({ knex: String(message) }, 'knex');
  config.log = { warn: quiet('debug'), error: quiet('debug'), deprecate: quiet('warn'), debug: quiet('debug') };
  const { default: knex } = await import('knex');
  let db = knex(config);
  try {
    try {
      await db.raw('select 1 as ok');
    } catch (e) {
      if (tls?.mode !== 'PREFERRED' || (e as { code?: unknown }).code !== 'HANDSHAKE_NO_SSL_SUPPORT') throw e;
      await db.destroy().catch(() => undefined);
      opts.log?.debug({ database: redactUrl(effective) }, 'the database offers no TLS; connecting without it (ssl-mode=PREFERRED)');
      db = knex(withoutTls(config));
      await db.raw('select 1 as ok');
    }
  } catch (e) {
    await db.destroy().catch(() => undefined);
    const hint = tls ? mysqlTlsHint(e, tls) : undefined;
    throw new IamwatchError('UNAVAILABLE', `cannot open database ${redactUrl(effective)}: ${describe(e)}${hint ? ` (${hint})` : ''}`);
  }
  opts.log?.debug({ database: redactUrl(effective), dialect: dialectOf(db) }, 'database opened');
  if ((url === undefined || url === '') && opts.initEmbedded !== false) {
    const { initSchema } = await import('./schema.js');
    const report = await initSchema(db, { demo: false });
    if (report.createdTables.length > 0) opts.log?.info({ database: effective, tables: report.createdTables }, 'created the IAM schema in the embedded database');
  }
  return db;
}
