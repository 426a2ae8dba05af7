/**
 * Real databases for tests: a uniquely named MariaDB database (from IAMWATCH_TEST_MYSQL_URL,
 * default mysql://root@127.0.0.1:3306) or a SQLite file in a temp dir, created per test run and
 * dropped at the end. Plus row builders with known dates and IAM's original table definitions.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { openDatabase } from '../../src/db/connect.js';
import { dbTime } from '../../src/db/dialect.js';

export const MYSQL_URL = process.env.IAMWATCH_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const DAY = 86_400_000;

export interface TestDatabase {
  kind: 'mariadb' | 'sqlite';
  /** DATABASE_URL of the test database. */
  url: string;
  db: Knex;
  /** Closes the pool and drops the database (or deletes the file). */
  drop(): Promise<void>;
}

function uniqueName(): string {
  return `iamwatch_test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** A fresh, empty MariaDB database. */
export async function createMysqlDatabase(): Promise<TestDatabase> {
  const name = uniqueName();
  const admin = await openDatabase(MYSQL_URL);
  try {
    await admin.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  } finally {
    await admin.destroy();
  }
  const u = new URL(MYSQL_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  const db = await openDatabase(url);
  return {
    kind: 'mariadb',
    url,
    db,
    async drop() {
      await db.destroy();
      const a = await openDatabase(MYSQL_URL);
      try {
        await a.raw(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await a.destroy();
      }
    },
  };
}

/** A fresh SQLite file in its own temp dir. */
export async function createSqliteDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(path.join(tmpdir(), 'iamwatch-db-'));
  const url = `sqlite:${path.join(dir, 'test.sqlite')}`;
  const db = await openDatabase(url);
  return {
    kind: 'sqlite',
    url,
    db,
    async drop() {
      await db.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const BACKENDS = [
  { name: 'mariadb', create: createMysqlDatabase },
  { name: 'sqlite', create: createSqliteDatabase },
] as const;

/** `days` days before now (UTC instant), as the dialect binds timestamps; whole seconds. */
export function daysAgo(db: Knex, days: number, now = Date.now()): Date | string {
  return dbTime(db, Math.floor((now - days * DAY) / 1000) * 1000);
}

let seq = 0;

export interface UserRow {
  id?: number;
  name?: string;
  status?: number | null;
  isAdmin?: number;
  loginedAt?: Date | string | null;
  createdAt?: Date | string;
  updatedAt?: Date | string;
  extendShadow?: string;
  nickname?: string;
}

/** A full user row with defaults: active, not admin, created 400 days ago, logged in yesterday. */
export function userRow(db: Knex, u: UserRow = {}): Record<string, unknown> {
  const n = ++seq;
  return {
    instanceID: `user-${n}`,
    name: `u${n}`,
    status: 1,
    nickname: `nick${n}`,
    password: 'secret-hash',
    email: `u${n}@example.com`,
    phone: null,
    isAdmin: 0,
    extendShadow: '{}',
    loginedAt: daysAgo(db, 1),
    createdAt: daysAgo(db, 400),
    updatedAt: daysAgo(db, 400),
    ...u,
  };
}

export function secretRow(username: string, expires: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const n = ++seq;
  return {
    instanceID: `secret-${n}`,
    name: `s${n}`,
    username,
    secretID: `sid${n}`,
    secretKey: `key${n}`,
    expires,
    description: 'test',
    extendShadow: '{}',
    ...extra,
  };
}

export function auditRow(db: Knex, id: number, deletedAt: Date | string): Record<string, unknown> {
  return {
    id,
    instanceID: `policy-${id}`,
    name: `p${id}`,
    username: 'someone',
    policyShadow: '{}',
    extendShadow: '{}',
    createdAt: daysAgo(db, 1000),
    updatedAt: daysAgo(db, 1000),
    deletedAt,
  };
}

/** Inserts in chunks (SQLite limits bound variables per statement). */
export async function insertMany(db: Knex, table: string, rows: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) await db(table).insert(rows.slice(i, i + 500));
}

export async function ids(db: Knex, table: string, where: (q: Knex.QueryBuilder) => Knex.QueryBuilder = (q) => q): Promise<number[]> {
  const rows = (await where(db(table).select('id').orderBy('id'))) as Array<{ id: number | string }>;
  return rows.map((r) => Number(r.id));
}

export async function dropIamTables(db: Knex): Promise<void> {
  for (const t of ['secret', 'policy_audit', 'user']) await db.schema.dropTableIfExists(t);
}

/**
 * IAM's tables exactly as its MariaDB dump (configs/iam.sql, v1.2) creates them: zero-date default
 * on deletedAt, the foreign key from secret to user, and no index but the dump's own.
 */
export const ORIGINAL_DUMP_DDL = [
  `CREATE TABLE \`user\` (
  \`id\` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  \`instanceID\` varchar(32) DEFAULT NULL,
  \`name\` varchar(45) NOT NULL,
  \`status\` int(1) DEFAULT 1 COMMENT '1:可用，0:不可用',
  \`nickname\` varchar(30) NOT NULL,
  \`password\` varchar(255) NOT NULL,
  \`email\` varchar(256) NOT NULL,
  \`phone\` varchar(20) DEFAULT NULL,
  \`isAdmin\` tinyint(1) unsigned NOT NULL DEFAULT 0 COMMENT '1: administrator\\\\n0: non-administrator',
  \`extendShadow\` longtext DEFAULT NULL,
  \`loginedAt\` timestamp NULL DEFAULT NULL COMMENT 'last login time',
  \`createdAt\` timestamp NOT NULL DEFAULT current_timestamp(),
  \`updatedAt\` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`idx_name\` (\`name\`),
  UNIQUE KEY \`instanceID_UNIQUE\` (\`instanceID\`)
) ENGINE=InnoDB AUTO_INCREMENT=38 DEFAULT CHARSET=utf8`,
  `CREATE TABLE \`policy_audit\` (
  \`id\` bigint(20) unsigned NOT NULL,
  \`instanceID\` varchar(32) DEFAULT NULL,
  \`name\` varchar(45) NOT NULL,
  \`username\` varchar(255) NOT NULL,
  \`policyShadow\` longtext DEFAULT NULL,
  \`extendShadow\` longtext DEFAULT NULL,
  \`createdAt\` timestamp NOT NULL DEFAULT current_timestamp(),
  \`updatedAt\` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  \`deletedAt\` timestamp NOT NULL DEFAULT '0000-00-00 00:00:00',
  PRIMARY KEY (\`id\`),
  KEY \`fk_policy_user_idx\` (\`username\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8`,
  `CREATE TABLE \`secret\` (
  \`id\` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  \`instanceID\` varchar(32) DEFAULT NULL,
  \`name\` varchar(45) NOT NULL,
  \`username\` varchar(255) NOT NULL,
  \`secretID\` varchar(36) NOT NULL,
  \`secretKey\` varchar(255) NOT NULL,
  \`expires\` int(64) unsigned NOT NULL DEFAULT 1534308590,
  \`description\` varchar(255) NOT NULL,
  \`extendShadow\` longtext DEFAULT NULL,
  \`createdAt\` timestamp NOT NULL DEFAULT current_timestamp(),
  \`updatedAt\` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`uniq_name_username\` (\`name\`,\`username\`),
  UNIQUE KEY \`instanceID_UNIQUE\` (\`instanceID\`),
  KEY \`fk_secret_user_idx\` (\`username\`),
  CONSTRAINT \`fk_secret_user\` FOREIGN KEY (\`username\`) REFERENCES \`user\` (\`name\`) ON DELETE NO ACTION ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8`,
];

/** Creates the original dump's tables (MariaDB only); the dump runs with SQL_MODE='NO_AUTO_VALUE_ON_ZERO'. */
export async function createOriginalDumpTables(db: Knex): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'");
    for (const ddl of ORIGINAL_DUMP_DDL) await trx.raw(ddl);
    await trx.raw('SET SESSION sql_mode = DEFAULT');
  });
}

/** A logger that drops everything (records warnings for assertions). */
export function quietLogger(): import('../../src/base/logger.js').Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = (): void => undefined;
  const self = {
    warnings,
    debug: noop,
    info: noop,
    warn: (a: unknown, b?: unknown) => void warnings.push(typeof a === 'string' ? a : String(b)),
    error: noop,
    child: () => self,
  };
  return self as never;
}
