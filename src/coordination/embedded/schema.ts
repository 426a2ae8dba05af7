/**
 * The state database's schema, version SCHEMA_VERSION (kept in PRAGMA user_version). Times are ms
 * on this machine's clock. The coordination tables mirror the Redis keys (../redis/keys.ts):
 * - job_state: per job the last fence and interval generation, and when the last interval run
 *   ended (ended_gen: the generation that end belongs to);
 * - claims: claimed occurrence ids, trimmed to the claim window behind the newest;
 * - running: running locks by token, with their deadline and holder JSON;
 * - pauses: paused jobs (`iamwatch pause`): by whom, since when, until when (null: until resumed), why;
 * - triggers: `iamwatch trigger` requests (../triggers.ts, embedded-triggers.ts): the request (job,
 *   by whom, when, pending until when), its state (pending, taken, done), the instance that took it
 *   and when it last reported, the run's result (JSON), and until when the row is kept.
 * And the fleet's record of itself (../../observe/fleet/file-fleet.ts):
 * - history: run records (JSON), bounded per job by count and age;
 * - instances: heartbeats (JSON) with their expiry.
 */
export const SCHEMA_VERSION = 3;

const PAUSES_SQL = `
CREATE TABLE IF NOT EXISTS pauses (
  job TEXT PRIMARY KEY,
  paused_by TEXT NOT NULL,
  paused_at INTEGER NOT NULL,
  until_at INTEGER,
  reason TEXT
) WITHOUT ROWID;
`;

const TRIGGERS_SQL = `
CREATE TABLE IF NOT EXISTS triggers (
  id TEXT PRIMARY KEY,
  job TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'taken', 'done')),
  instance TEXT,
  state_at INTEGER,
  result TEXT,
  kept_until INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS triggers_by_state ON triggers (state, requested_at);
CREATE INDEX IF NOT EXISTS triggers_by_age ON triggers (kept_until);
`;

/**
 * What brings a database of version N-1 to version N, by N. A new database gets SCHEMA_SQL (every
 * version's tables) at once.
 */
export const MIGRATIONS: Readonly<Record<number, string>> = {
  2: PAUSES_SQL,
  3: TRIGGERS_SQL,
};

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS job_state (
  job TEXT PRIMARY KEY,
  fence INTEGER NOT NULL DEFAULT 0,
  gen INTEGER NOT NULL DEFAULT 0,
  ended_gen INTEGER NOT NULL DEFAULT 0,
  ended_at INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS claims (
  job TEXT NOT NULL,
  occurrence INTEGER NOT NULL,
  PRIMARY KEY (job, occurrence)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS running (
  job TEXT NOT NULL,
  token TEXT NOT NULL,
  deadline INTEGER NOT NULL,
  holder TEXT NOT NULL,
  PRIMARY KEY (job, token)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS running_by_deadline ON running (job, deadline);
CREATE TABLE IF NOT EXISTS history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job TEXT NOT NULL,
  at INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_job ON history (job, at);
CREATE INDEX IF NOT EXISTS history_by_age ON history (at);
CREATE TABLE IF NOT EXISTS instances (
  instance TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL,
  heartbeat TEXT NOT NULL
);
${PAUSES_SQL}${TRIGGERS_SQL}`;
