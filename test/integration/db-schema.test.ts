/**
 * Opening databases, creating and checking the IAM schema, demo data, and the watchers against
 * tables created by IAM's original dump (zero-date deletedAt, foreign key, no extra indexes).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { databaseLabel, openDatabase } from '../../src/db/connect.js';
import { deleteExpiredSecrets, disableInactiveUsers, purgePolicyAudit } from '../../src/db/housekeeping.js';
import { checkSchema, initSchema } from '../../src/db/schema.js';
import { IamwatchError } from '../../src/base/errors.js';
import { auditRow, BACKENDS, createMysqlDatabase, createOriginalDumpTables, daysAgo, ids, insertMany, quietLogger, secretRow, userRow, type TestDatabase } from '../helpers/db.js';

const live = (): AbortSignal => new AbortController().signal;
const base = { dryRun: false, log: quietLogger(), batchSize: 3 };

describe('openDatabase and databaseLabel', () => {
  test('databaseLabel hides the password only', () => {
    assert.equal(databaseLabel('mysql://iam:s3cr%40t@db.internal:3306/iam'), 'mysql://iam:***@db.internal:3306/iam');
    assert.equal(databaseLabel('mysql://root@127.0.0.1:3306/iam'), 'mysql://root@127.0.0.1:3306/iam');
    assert.equal(databaseLabel('sqlite:./x.sqlite'), 'sqlite:./x.sqlite');
    assert.equal(databaseLabel(undefined), 'sqlite:./iamwatch.sqlite');
  });

  test('an unreachable server is UNAVAILABLE, with the password hidden', async () => {
    await assert.rejects(openDatabase('mysql://iam:hunter2@127.0.0.1:1/iam', { connectTimeoutMs: 3000 }), (e: unknown) => {
      assert.ok(e instanceof IamwatchError);
      assert.equal(e.code, 'UNAVAILABLE');
      assert.match(e.message, /mysql:\/\/iam:\*\*\*@127\.0\.0\.1:1\/iam/);
      assert.doesNotMatch(e.message, /hunter2/);
      return true;
    });
  });

  test('a database that does not exist is UNAVAILABLE', async () => {
    const u = new URL(process.env.IAMWATCH_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
    u.pathname = '/iamwatch_no_such_database_here';
    await assert.rejects(openDatabase(u.toString()), (e: unknown) => e instanceof IamwatchError && e.code === 'UNAVAILABLE' && /iamwatch_no_such_database_here/.test(e.message));
  });

  test('a SQLite path in a missing directory, or a file that is not a database, is UNAVAILABLE', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'iamwatch-db-'));
    try {
      await assert.rejects(openDatabase(`sqlite:${dir}/missing/dir/x.sqlite`), (e: unknown) => e instanceof IamwatchError && e.code === 'UNAVAILABLE');
      const bogus = path.join(dir, 'bogus.sqlite');
      await import('node:fs/promises').then((fs) => fs.writeFile(bogus, 'this is not a database, just text that is long enough to be read as a header'.repeat(20)));
      await assert.rejects(openDatabase(`sqlite:${bogus}`), (e: unknown) => e instanceof IamwatchError && e.code === 'UNAVAILABLE');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('unsupported schemes are INVALID_INPUT', async () => {
    await assert.rejects(openDatabase('postgres://x@y/z'), (e: unknown) => e instanceof IamwatchError && e.code === 'INVALID_INPUT');
  });

  test('the embedded default (URL unset) is sqlite:./iamwatch.sqlite in the cwd, with the schema created', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'iamwatch-db-'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const db = await openDatabase(undefined);
      try {
        const check = await checkSchema(db);
        assert.equal(check.ok, true, JSON.stringify(check.problems));
        assert.equal(check.dialect, 'sqlite');
      } finally {
        await db.destroy();
      }
    } finally {
      process.chdir(cwd);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

for (const backend of BACKENDS) {
  describe(`schema on ${backend.name}`, () => {
    let t: TestDatabase;
    before(async () => (t = await backend.create()));
    after(async () => t?.drop());

    test('checkSchema on an empty database reports the three missing tables', async () => {
      const check = await checkSchema(t.db);
      assert.equal(check.ok, false);
      assert.deepEqual(check.problems.map((p) => `${p.kind}:${p.name}`), ['table:user', 'table:policy_audit', 'table:secret']);
    });

    test('initSchema creates tables and indexes once; demo fills only empty tables', async () => {
      const first = await initSchema(t.db, { demo: true });
      assert.deepEqual(first.createdTables, ['user', 'policy_audit', 'secret']);
      assert.deepEqual(first.createdIndexes, ['secret.fk_secret_user_idx']);
      assert.equal(first.check.ok, true, JSON.stringify(first.check.problems));
      assert.ok(first.demo!.users >= 200 && first.demo!.policyAudits >= 500 && first.demo!.secrets >= 200);
      const second = await initSchema(t.db, { demo: true });
      assert.deepEqual(second.createdTables, []);
      assert.deepEqual(second.existingTables, ['user', 'policy_audit', 'secret']);
      assert.deepEqual(second.demo, { users: 0, policyAudits: 0, secrets: 0 });
    });

    test('the demo data makes every watcher do something (dry run)', async () => {
      const clean = await purgePolicyAudit(t.db, { ...base, batchSize: 100, dryRun: true, maxReserveDays: 180, signal: live() });
      const task = await disableInactiveUsers(t.db, { ...base, batchSize: 100, dryRun: true, maxInactiveDays: 180, includeAdmins: false, disableSecrets: true, signal: live() });
      const secrets = await deleteExpiredSecrets(t.db, { ...base, batchSize: 100, dryRun: true, graceDays: 0, signal: live() });
      assert.ok(Number(clean.rows) > 100, `clean ${clean.rows}`);
      assert.ok(Number(task.rows) > 20, `task ${task.rows}`);
      assert.ok(Number(task.secretsExpired) > 0, `task secrets ${task.secretsExpired}`);
      assert.ok(Number(secrets.rows) > 20, `cleansecret ${secrets.rows}`);
      const admins = await t.db('user').where('isAdmin', 1).count({ n: '*' }).first();
      assert.ok(Number(admins?.n) >= 2);
      const never = await t.db('user').whereNull('loginedAt').count({ n: '*' }).first();
      assert.ok(Number(never?.n) >= 10);
      const forever = await t.db('secret').where('expires', 0).count({ n: '*' }).first();
      assert.ok(Number(forever?.n) >= 10);
    });

    test('a missing watcher index is reported with its CREATE INDEX statement, and added only when asked', async () => {
      await t.db.schema.alterTable('secret', (tb) => tb.dropIndex([], 'fk_secret_user_idx'));
      const check = await checkSchema(t.db);
      assert.equal(check.ok, false);
      assert.equal(check.problems.length, 1);
      const p = check.problems[0]!;
      assert.equal(p.kind, 'index');
      const q = backend.name === 'mariadb' ? '`' : '"';
      assert.equal(p.statement, `CREATE INDEX ${q}fk_secret_user_idx${q} ON ${q}secret${q} (${q}username${q});`);
      const init = await initSchema(t.db);
      assert.deepEqual(init.createdIndexes, []);
      assert.equal(init.check.ok, false);
      await t.db.raw(p.statement!.replace(/;$/, ''));
      assert.equal((await checkSchema(t.db)).ok, true);
    });
  });
}

describe('the original IAM dump\'s tables (MariaDB)', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createMysqlDatabase();
    await createOriginalDumpTables(t.db);
  });
  after(async () => t?.drop());

  test('checkSchema finds nothing missing and initSchema alters nothing', async () => {
    assert.equal((await checkSchema(t.db)).ok, true);
    const init = await initSchema(t.db);
    assert.deepEqual(init.createdTables, []);
    assert.deepEqual(init.createdIndexes, []);
  });

  test('clean keeps zero-date deletedAt rows and deletes only old ones', async () => {
    const db = t.db;
    await insertMany(db, 'policy_audit', [auditRow(db, 1, daysAgo(db, 400)), auditRow(db, 2, daysAgo(db, 5)), auditRow(db, 3, daysAgo(db, 200))]);
    const zero = auditRow(db, 4, daysAgo(db, 0));
    delete zero.deletedAt; // the dump's default: '0000-00-00 00:00:00'
    await db('policy_audit').insert(zero);
    const raw = (await db.raw('SELECT CAST(deletedAt AS CHAR) AS d FROM policy_audit WHERE id = 4')) as [Array<{ d: string }>];
    assert.equal(raw[0][0]!.d, '0000-00-00 00:00:00');
    const dry = await purgePolicyAudit(db, { ...base, dryRun: true, maxReserveDays: 180, signal: live() });
    assert.equal(dry.rows, 2);
    const r = await purgePolicyAudit(db, { ...base, maxReserveDays: 180, signal: live() });
    assert.equal(r.rows, 2);
    assert.deepEqual(await ids(db, 'policy_audit'), [2, 4]);
  });

  test('task and cleansecret work on the dump\'s user and secret tables', async () => {
    const db = t.db;
    const users = [
      userRow(db, { loginedAt: daysAgo(db, 300) }),
      userRow(db, { loginedAt: null, createdAt: daysAgo(db, 300) }),
      userRow(db, { loginedAt: daysAgo(db, 3) }),
      userRow(db, { isAdmin: 1, loginedAt: daysAgo(db, 300) }),
    ];
    await insertMany(db, 'user', users);
    const now = Math.floor(Date.now() / 1000);
    await insertMany(db, 'secret', [secretRow(users[0]!.name as string, 0), secretRow(users[2]!.name as string, now - 86_400), secretRow(users[2]!.name as string, 0)]);
    const r = await disableInactiveUsers(db, { ...base, maxInactiveDays: 180, includeAdmins: false, disableSecrets: true, signal: live() });
    assert.equal(r.rows, 2);
    assert.equal(r.secretsExpired, 1);
    assert.deepEqual(
      ((await db('user').select('name').where('status', 0).orderBy('id')) as Array<{ name: string }>).map((u) => u.name),
      [users[0]!.name, users[1]!.name],
    );
    // The expired-by-task secret and the one that expired yesterday both go.
    const s = await deleteExpiredSecrets(db, { ...base, graceDays: 0, signal: live() });
    assert.equal(s.rows, 2);
    assert.deepEqual(((await db('secret').select('expires')) as Array<{ expires: number }>).map((x) => Number(x.expires)), [0]);
  });
});
