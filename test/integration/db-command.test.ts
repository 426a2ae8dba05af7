/** `db init` / `db check` as functions (the commander wiring lives in src/cli/main.ts). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { databaseUrlFor, dbCheck, dbInit, renderDbCheck, renderDbInit } from '../../src/cli/commands/db.js';
import { IamwatchError } from '../../src/base/errors.js';
import { createMysqlDatabase, type TestDatabase } from '../helpers/db.js';

describe('db init / db check', () => {
  let dir: string;
  let mysql: TestDatabase;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'iamwatch-dbcmd-'));
    mysql = await createMysqlDatabase();
  });
  after(async () => {
    await mysql?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('on SQLite: check reports the missing tables, init --demo creates and fills them', async () => {
    const databaseUrl = `sqlite:${path.join(dir, 'iam.sqlite')}`;
    const before = await dbCheck({ databaseUrl });
    assert.equal(before.ok, false);
    assert.match(renderDbCheck(before), /MISSING\s+user/);
    const init = await dbInit({ databaseUrl, demo: true });
    assert.deepEqual(init.createdTables, ['user', 'policy_audit', 'secret']);
    assert.ok(init.demo && init.demo.users > 0);
    assert.match(renderDbInit(init), /created tables: user, policy_audit, secret/);
    assert.match(renderDbInit(init), /schema OK/);
    assert.equal((await dbCheck({ databaseUrl })).ok, true);
  });

  test('on MariaDB: the report names the database with the password hidden, and says how to add a missing index', async () => {
    await dbInit({ databaseUrl: mysql.url });
    await mysql.db.raw('DROP INDEX fk_secret_user_idx ON secret');
    const check = await dbCheck({ databaseUrl: mysql.url });
    assert.equal(check.ok, false);
    assert.match(renderDbCheck(check), /to add it: CREATE INDEX `fk_secret_user_idx` ON `secret` \(`username`\);/);
    const init = await dbInit({ databaseUrl: mysql.url, demo: true });
    assert.deepEqual(init.createdTables, []);
    assert.match(renderDbInit(init), /does not alter existing tables/);
    const added = await dbInit({ databaseUrl: mysql.url, addIndexes: true });
    assert.deepEqual(added.createdIndexes, ['secret.fk_secret_user_idx']);
    assert.equal(added.check.ok, true);
  });

  test('DATABASE_URL comes from the jobs file; a bad file is refused', async () => {
    const file = path.join(dir, 'watchers.conf');
    await writeFile(file, `DATABASE_URL=sqlite:${path.join(dir, 'x.sqlite')}\n@daily cron clean\n`);
    assert.equal(await databaseUrlFor({ config: file }, () => undefined), `sqlite:${path.join(dir, 'x.sqlite')}`);
    await writeFile(file, 'DATABASE_URL=postgres://nope\n@daily cron clean\n');
    await assert.rejects(databaseUrlFor({ config: file }, () => undefined), (e: unknown) => e instanceof IamwatchError && e.code === 'INVALID_INPUT');
  });

  test('an unreachable database is UNAVAILABLE', async () => {
    await assert.rejects(dbCheck({ databaseUrl: 'mysql://a:b@127.0.0.1:1/x' }), (e: unknown) => e instanceof IamwatchError && e.code === 'UNAVAILABLE' && !e.message.includes(':b@'));
  });
});
