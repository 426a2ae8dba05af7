/**
 * The IAM watchers run through the real CLI, `iamwatch once JOB -c FILE --json`, as a process,
 * against MariaDB and SQLite: exactly the expected rows change; --dry-run changes nothing.
 * Skipped until src/cli/commands/once.ts exists; they activate by themselves when it does.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { initSchema } from '../../src/db/schema.js';
import { runCli } from '../helpers/cli.js';
import { auditRow, BACKENDS, daysAgo, ids, insertMany, secretRow, userRow, type TestDatabase } from '../helpers/db.js';

const skip = !existsSync(new URL('../../src/cli/commands/once.ts', import.meta.url)) && 'once not built yet';

interface OnceOutput {
  job: string;
  watcher: string;
  outcome: 'ok' | 'failed' | 'timeout' | 'aborted';
  result: { rows?: number; batches?: number; dryRun?: boolean; summary?: string; secretsExpired?: number };
  error?: string;
}

async function seed(db: Knex): Promise<void> {
  for (const table of ['secret', 'policy_audit', 'user']) await db(table).del();
  await insertMany(db, 'policy_audit', [auditRow(db, 1, daysAgo(db, 10)), auditRow(db, 2, daysAgo(db, 200)), auditRow(db, 3, daysAgo(db, 400)), auditRow(db, 4, daysAgo(db, 181))]);
  await insertMany(db, 'user', [
    userRow(db, { name: 'active', loginedAt: daysAgo(db, 3) }),
    userRow(db, { name: 'stale', loginedAt: daysAgo(db, 300) }),
    userRow(db, { name: 'never-old', loginedAt: null, createdAt: daysAgo(db, 300) }),
    userRow(db, { name: 'never-new', loginedAt: null, createdAt: daysAgo(db, 3) }),
    userRow(db, { name: 'admin', isAdmin: 1, loginedAt: daysAgo(db, 300) }),
  ]);
  const now = Math.floor(Date.now() / 1000);
  await insertMany(db, 'secret', [
    secretRow('stale', 0, { description: 'stale-never' }),
    secretRow('active', 0, { description: 'active-never' }),
    secretRow('active', now - 86_400, { description: 'active-expired' }),
    secretRow('active', now + 86_400, { description: 'active-valid' }),
  ]);
}

for (const backend of BACKENDS) {
  describe(`iamwatch once against ${backend.name}`, { skip }, () => {
    let t: TestDatabase;
    let dir: string;
    let file: string;
    before(async () => {
      t = await backend.create();
      await initSchema(t.db);
      dir = await mkdtemp(path.join(tmpdir(), 'iamwatch-once-'));
      file = path.join(dir, 'watchers.conf');
      await writeFile(
        file,
        [
          `DATABASE_URL=${t.url}`,
          '@daily cron clean name=purge max-reserve-days=180 batch-size=2',
          '@daily cron task name=disable max-inactive-days=180 disable-secrets=true batch-size=2',
          '@daily cron task name=off max-inactive-days=0',
          '@daily cron cleansecret name=secrets',
          '',
        ].join('\n'),
      );
    });
    after(async () => {
      await t?.drop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const once = async (job: string, ...extra: string[]): Promise<{ code: number | null; out: OnceOutput; stderr: string }> => {
      const r = await runCli(['once', job, '-c', file, '--json', ...extra], { cwd: dir });
      let out: OnceOutput;
      try {
        out = JSON.parse(r.stdout) as OnceOutput;
      } catch {
        throw new Error(`once ${job}: not JSON (exit ${r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      }
      return { code: r.code, out, stderr: r.stderr };
    };

    test('clean deletes exactly the old policy_audit rows; --dry-run first changes nothing', async () => {
      await seed(t.db);
      const dry = await once('purge', '--dry-run');
      assert.equal(dry.code, 0, dry.stderr);
      assert.deepEqual([dry.out.outcome, dry.out.result.rows, dry.out.result.dryRun], ['ok', 3, true]);
      assert.deepEqual(await ids(t.db, 'policy_audit'), [1, 2, 3, 4]);
      const r = await once('purge');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.out.watcher, 'clean');
      assert.deepEqual([r.out.outcome, r.out.result.rows, r.out.result.batches, r.out.result.dryRun], ['ok', 3, 2, false]);
      assert.deepEqual(await ids(t.db, 'policy_audit'), [1]);
    });

    test('task disables stale and never-logged-in-long-ago users, not admins, and expires their secrets', async () => {
      await seed(t.db);
      const r = await once('disable');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.out.result.rows, 2);
      assert.equal(r.out.result.secretsExpired, 1);
      const disabled = ((await t.db('user').where('status', 0).orderBy('name').select('name')) as Array<{ name: string }>).map((u) => u.name);
      assert.deepEqual(disabled, ['never-old', 'stale']);
      const off = await once('off');
      assert.deepEqual([off.code, off.out.outcome, off.out.result.rows], [0, 'ok', 0]);
    });

    test('cleansecret deletes expired secrets and keeps expires=0', async () => {
      await seed(t.db);
      const r = await once('secrets');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.out.result.rows, 1);
      const left = ((await t.db('secret').orderBy('id').select('description')) as Array<{ description: string }>).map((s) => s.description);
      assert.deepEqual(left, ['stale-never', 'active-never', 'active-valid']);
    });
  });
}

describe('iamwatch once with an unreachable database', { skip }, () => {
  test('fails with the URL redacted', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'iamwatch-once-'));
    try {
      const file = path.join(dir, 'watchers.conf');
      await writeFile(file, 'DATABASE_URL=mysql://iam:hunter2@127.0.0.1:1/iam\n@daily cron clean name=purge\n');
      const r = await runCli(['once', 'purge', '-c', file, '--json'], { cwd: dir });
      assert.notEqual(r.code, 0);
      assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
      assert.match(r.stdout + r.stderr, /iam:\*\*\*@127\.0\.0\.1:1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
