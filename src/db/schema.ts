/**
 * The IAM schema the built-in watchers work on: `user`, `policy_audit` and `secret`, with the
 * column names and MariaDB types of IAM's iam.sql (closest equivalents on SQLite), plus the
 * indexes the watchers' queries need. `initSchema` creates only what is missing and never alters
 * an existing table unless asked (`addIndexes`); `checkSchema` reports what is missing, with the
 * statement to add each index. `--demo` rows make the watchers visibly do something.
 *
 * The watchers walk tables in primary-key windows, so they need no index on deletedAt, loginedAt
 * or expires: a run reads each row once and every statement touches at most one window. The one
 * secondary index they use is secret(username), for `task disable-secrets=true`.
 */
import type { Knex } from 'knex';
import { dbTime, dialectOf, type Dialect } from './dialect.js';

export const IAM_TABLES = ['user', 'policy_audit', 'secret'] as const;
export type IamTable = (typeof IAM_TABLES)[number];

const MYSQL_DDL: Record<IamTable, string> = {
  user: `CREATE TABLE \`user\` (
  \`id\` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  \`instanceID\` varchar(32) DEFAULT NULL,
  \`name\` varchar(45) NOT NULL,
  \`status\` int(1) DEFAULT 1 COMMENT '1: available, 0: disabled',
  \`nickname\` varchar(30) NOT NULL,
  \`password\` varchar(255) NOT NULL,
  \`email\` varchar(256) NOT NULL,
  \`phone\` varchar(20) DEFAULT NULL,
  \`isAdmin\` tinyint(1) unsigned NOT NULL DEFAULT 0 COMMENT '1: administrator, 0: non-administrator',
  \`extendShadow\` longtext DEFAULT NULL,
  \`loginedAt\` timestamp NULL DEFAULT NULL COMMENT 'last login time',
  \`createdAt\` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  \`updatedAt\` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`idx_name\` (\`name\`),
  UNIQUE KEY \`instanceID_UNIQUE\` (\`instanceID\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  policy_audit: `CREATE TABLE \`policy_audit\` (
  \`id\` bigint(20) unsigned NOT NULL,
  \`instanceID\` varchar(32) DEFAULT NULL,
  \`name\` varchar(45) NOT NULL,
  \`username\` varchar(255) NOT NULL,
  \`policyShadow\` longtext DEFAULT NULL,
  \`extendShadow\` longtext DEFAULT NULL,
  \`createdAt\` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  \`updatedAt\` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  \`deletedAt\` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (\`id\`),
  KEY \`fk_policy_user_idx\` (\`username\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  secret: `CREATE TABLE \`secret\` (
  \`id\` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  \`instanceID\` varchar(32) DEFAULT NULL,
  \`name\` varchar(45) NOT NULL,
  \`username\` varchar(255) NOT NULL,
  \`secretID\` varchar(36) NOT NULL,
  \`secretKey\` varchar(255) NOT NULL,
  \`expires\` int(64) unsigned NOT NULL DEFAULT 1534308590 COMMENT 'unix seconds, 0: never',
  \`description\` varchar(255) NOT NULL,
  \`extendShadow\` longtext DEFAULT NULL,
  \`createdAt\` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  \`updatedAt\` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`uniq_name_username\` (\`name\`, \`username\`),
  UNIQUE KEY \`instanceID_UNIQUE\` (\`instanceID\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
};

/** SQLite: same names; timestamps are UTC text `YYYY-MM-DD HH:MM:SS` (CURRENT_TIMESTAMP's format). */
const SQLITE_DDL: Record<IamTable, string[]> = {
  user: [
    `CREATE TABLE "user" (
  "id" integer PRIMARY KEY AUTOINCREMENT,
  "instanceID" varchar(32) DEFAULT NULL,
  "name" varchar(45) NOT NULL,
  "status" integer DEFAULT 1,
  "nickname" varchar(30) NOT NULL,
  "password" varchar(255) NOT NULL,
  "email" varchar(256) NOT NULL,
  "phone" varchar(20) DEFAULT NULL,
  "isAdmin" integer NOT NULL DEFAULT 0,
  "extendShadow" text DEFAULT NULL,
  "loginedAt" datetime NULL DEFAULT NULL,
  "createdAt" datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
)`,
    'CREATE UNIQUE INDEX "idx_name" ON "user" ("name")',
    'CREATE UNIQUE INDEX "user_instanceID_UNIQUE" ON "user" ("instanceID")',
  ],
  policy_audit: [
    `CREATE TABLE "policy_audit" (
  "id" integer NOT NULL PRIMARY KEY,
  "instanceID" varchar(32) DEFAULT NULL,
  "name" varchar(45) NOT NULL,
  "username" varchar(255) NOT NULL,
  "policyShadow" text DEFAULT NULL,
  "extendShadow" text DEFAULT NULL,
  "createdAt" datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deletedAt" datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
)`,
    'CREATE INDEX "fk_policy_user_idx" ON "policy_audit" ("username")',
  ],
  secret: [
    `CREATE TABLE "secret" (
  "id" integer PRIMARY KEY AUTOINCREMENT,
  "instanceID" varchar(32) DEFAULT NULL,
  "name" varchar(45) NOT NULL,
  "username" varchar(255) NOT NULL,
  "secretID" varchar(36) NOT NULL,
  "secretKey" varchar(255) NOT NULL,
  "expires" integer NOT NULL DEFAULT 1534308590,
  "description" varchar(255) NOT NULL,
  "extendShadow" text DEFAULT NULL,
  "createdAt" datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
)`,
    'CREATE UNIQUE INDEX "uniq_name_username" ON "secret" ("name", "username")',
    'CREATE UNIQUE INDEX "secret_instanceID_UNIQUE" ON "secret" ("instanceID")',
  ],
};

/** Columns each watcher reads or writes; a table without them cannot be used. */
export const REQUIRED_COLUMNS: Record<IamTable, string[]> = {
  user: ['id', 'name', 'status', 'isAdmin', 'loginedAt', 'createdAt', 'updatedAt'],
  policy_audit: ['id', 'deletedAt'],
  secret: ['id', 'username', 'expires', 'updatedAt'],
};

export interface IndexSpec {
  table: IamTable;
  name: string;
  columns: string[];
  /** Which watcher needs it, and for what. */
  reason: string;
}

/** Secondary indexes the watchers' queries use (satisfied by any index with these leading columns). */
export const WATCHER_INDEXES: readonly IndexSpec[] = [
  { table: 'secret', name: 'fk_secret_user_idx', columns: ['username'], reason: 'task disable-secrets=true expires secrets by username' },
];

function quote(dialect: Dialect, id: string): string {
  return dialect === 'mysql' ? `\`${id}\`` : `"${id}"`;
}

/** The statement that adds `spec` on this dialect. */
export function createIndexStatement(dialect: Dialect, spec: IndexSpec): string {
  const q = (id: string): string => quote(dialect, id);
  return `CREATE INDEX ${q(spec.name)} ON ${q(spec.table)} (${spec.columns.map(q).join(', ')});`;
}

/** Each index of `table` as its ordered column list. */
async function indexesOf(db: Knex, table: string): Promise<string[][]> {
  if (dialectOf(db) === 'mysql') {
    const [rows] = (await db.raw(
      'SELECT INDEX_NAME AS name, COLUMN_NAME AS col FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX',
      [table],
    )) as [Array<{ name: string; col: string }>];
    const byName = new Map<string, string[]>();
    for (const r of rows) byName.set(r.name, [...(byName.get(r.name) ?? []), r.col]);
    return [...byName.values()];
  }
  const list = (await db.raw(`PRAGMA index_list(${quote('sqlite', table)})`)) as Array<{ name: string }>;
  const out: string[][] = [];
  for (const idx of list) {
    const cols = (await db.raw(`PRAGMA index_info(${quote('sqlite', idx.name)})`)) as Array<{ seqno: number; name: string }>;
    out.push(cols.sort((a, b) => a.seqno - b.seqno).map((c) => c.name));
  }
  return out;
}

function covers(index: string[], columns: string[]): boolean {
  return columns.every((c, i) => index[i]?.toLowerCase() === c.toLowerCase());
}

export interface SchemaProblem {
  kind: 'table' | 'column' | 'index';
  table: IamTable;
  /** Table, column or index name. */
  name: string;
  message: string;
  /** For a missing index: the statement that adds it. */
  statement?: string;
}

export interface SchemaCheck {
  dialect: Dialect;
  ok: boolean;
  tables: Array<{ table: IamTable; present: boolean }>;
  problems: SchemaProblem[];
}

/** What the watchers need that the database lacks. Reads only. */
export async function checkSchema(db: Knex): Promise<SchemaCheck> {
  const dialect = dialectOf(db);
  const tables: SchemaCheck['tables'] = [];
  const problems: SchemaProblem[] = [];
  for (const table of IAM_TABLES) {
    const present = await db.schema.hasTable(table);
    tables.push({ table, present });
    if (!present) {
      problems.push({ kind: 'table', table, name: table, message: `table ${table} is missing (iamwatch db init creates it)` });
      continue;
    }
    const columns = new Set(Object.keys(await db(table).columnInfo()).map((c) => c.toLowerCase()));
    for (const col of REQUIRED_COLUMNS[table]) {
      if (!columns.has(col.toLowerCase())) problems.push({ kind: 'column', table, name: col, message: `table ${table} has no column ${col}` });
    }
    const indexes = await indexesOf(db, table);
    for (const spec of WATCHER_INDEXES.filter((s) => s.table === table)) {
      if (!indexes.some((ix) => covers(ix, spec.columns))) {
        problems.push({
          kind: 'index',
          table,
          name: spec.name,
          message: `table ${table} has no index on (${spec.columns.join(', ')}): ${spec.reason}`,
          statement: createIndexStatement(dialect, spec),
        });
      }
    }
  }
  return { dialect, ok: problems.length === 0, tables, problems };
}

export interface InitOptions {
  /** Fill empty IAM tables with demo rows. */
  demo?: boolean;
  /** Also add missing watcher indexes to tables that already existed (an ALTER: off by default). */
  addIndexes?: boolean;
  /** The demo's notion of now (default: the clock). */
  now?: number;
}

export interface DemoCounts {
  users: number;
  policyAudits: number;
  secrets: number;
}

export interface InitReport {
  dialect: Dialect;
  createdTables: IamTable[];
  existingTables: IamTable[];
  createdIndexes: string[];
  /** Rows inserted by --demo, per table (0 where the table already had rows). */
  demo: DemoCounts | null;
  /** What is still missing afterwards (indexes on tables that existed, unless addIndexes). */
  check: SchemaCheck;
}

async function createTable(db: Knex, table: IamTable): Promise<void> {
  if (dialectOf(db) === 'mysql') {
    await db.raw(MYSQL_DDL[table]);
  } else {
    await db.transaction(async (trx) => {
      for (const stmt of SQLITE_DDL[table]) await trx.raw(stmt);
    });
  }
}

/** Creates whatever IAM tables are missing, with the watcher indexes; existing tables are left alone. */
export async function initSchema(db: Knex, opts: InitOptions = {}): Promise<InitReport> {
  const dialect = dialectOf(db);
  const createdTables: IamTable[] = [];
  const existingTables: IamTable[] = [];
  const createdIndexes: string[] = [];
  for (const table of IAM_TABLES) {
    if (await db.schema.hasTable(table)) {
      existingTables.push(table);
      continue;
    }
    await createTable(db, table);
    createdTables.push(table);
  }
  const before = await checkSchema(db);
  for (const p of before.problems) {
    if (p.kind !== 'index' || p.statement === undefined) continue;
    if (createdTables.includes(p.table) || opts.addIndexes) {
      await db.raw(p.statement.replace(/;$/, ''));
      createdIndexes.push(`${p.table}.${p.name}`);
    }
  }
  const demo = opts.demo ? await fillDemo(db, opts.now ?? Date.now()) : null;
  return { dialect, createdTables, existingTables, createdIndexes, demo, check: await checkSchema(db) };
}

/** A small deterministic PRNG, so the demo data is the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;

async function isEmpty(db: Knex, table: IamTable): Promise<boolean> {
  const row = await db(table).first('id');
  return row === undefined;
}

async function insertChunks(db: Knex, table: string, rows: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) await db(table).insert(rows.slice(i, i + 200));
}

/**
 * Demo rows, only into tables that are empty: 300 users (admins, never-logged-in, long inactive,
 * already disabled), 600 policy_audit rows deleted over the last 400 days, and secrets that never
 * expire, expired long ago, expired recently, or are still valid.
 */
export async function fillDemo(db: Knex, now: number): Promise<DemoCounts> {
  const rand = mulberry32(20_240_601);
  const t = (msAgo: number): Date | string => dbTime(db, Math.floor((now - msAgo) / 1000) * 1000);
  const counts: DemoCounts = { users: 0, policyAudits: 0, secrets: 0 };
  const names: string[] = [];
  for (let i = 1; i <= 300; i++) names.push(i === 1 ? 'admin' : `user${String(i).padStart(3, '0')}`);

  if (await isEmpty(db, 'user')) {
    const users = names.map((name, i) => {
      const createdDaysAgo = 30 + Math.floor(rand() * 700);
      const neverLoggedIn = i % 10 === 3;
      const loginDaysAgo = Math.floor(rand() * Math.min(createdDaysAgo, 400));
      const isAdmin = i === 0 || i % 50 === 7 ? 1 : 0;
      return {
        instanceID: `user-${name}`,
        name,
        status: i % 25 === 11 ? 0 : 1,
        nickname: name,
        password: '$2a$10$demo.demo.demo.demo.demo.demo.demo.demo.demo.demo.dem',
        email: `${name}@example.com`,
        phone: null,
        isAdmin,
        extendShadow: '{}',
        loginedAt: neverLoggedIn ? null : t(loginDaysAgo * DAY + Math.floor(rand() * DAY)),
        createdAt: t(createdDaysAgo * DAY),
        updatedAt: t(createdDaysAgo * DAY),
      };
    });
    await insertChunks(db, 'user', users);
    counts.users = users.length;
  }

  if (await isEmpty(db, 'policy_audit')) {
    const rows = Array.from({ length: 600 }, (_, i) => {
      const deletedDaysAgo = rand() * 400;
      const username = names[Math.floor(rand() * names.length)]!;
      return {
        id: 1000 + i * 3,
        instanceID: `policy-${(1000 + i * 3).toString(36)}`,
        name: `policy${i}`,
        username,
        policyShadow: JSON.stringify({ subjects: [`users:${username}`], actions: ['get'], effect: 'allow', resources: [`resources:articles:${i}`] }),
        extendShadow: '{}',
        createdAt: t((deletedDaysAgo + 30) * DAY),
        updatedAt: t((deletedDaysAgo + 10) * DAY),
        deletedAt: t(deletedDaysAgo * DAY),
      };
    });
    await insertChunks(db, 'policy_audit', rows);
    counts.policyAudits = rows.length;
  }

  if (await isEmpty(db, 'secret')) {
    const nowSec = Math.floor(now / 1000);
    const rows = names.slice(0, 200).flatMap((username, i) =>
      Array.from({ length: 1 + (i % 2) }, (_, j) => {
        const kind = (i + j) % 4; // 0 never expires, 1 expired long ago, 2 expired this week, 3 valid
        const expires = kind === 0 ? 0 : kind === 1 ? nowSec - Math.floor((30 + rand() * 300) * 86_400) : kind === 2 ? nowSec - Math.floor(rand() * 6 * 86_400) : nowSec + Math.floor((1 + rand() * 365) * 86_400);
        const id = `${i}-${j}`;
        return {
          instanceID: `secret-${id}`,
          name: `secret${j}`,
          username,
          secretID: `demo${id}`.padEnd(36, 'x'),
          secretKey: `demo-key-${id}`.padEnd(32, 'k'),
          expires,
          description: kind === 0 ? 'never expires' : kind === 3 ? 'valid' : 'expired',
          extendShadow: '{}',
          createdAt: t(400 * DAY),
          updatedAt: t(400 * DAY),
        };
      }),
    );
    await insertChunks(db, 'secret', rows);
    counts.secrets = rows.length;
  }
  return counts;
}
