/**
 * The IAM housekeeping queries against real databases (MariaDB and SQLite): known dates in,
 * exactly the expected rows changed out; dry runs, batch boundaries, aborts, NULL loginedAt,
 * admins, expires=0, max-inactive-days=0, and a lost-update race against a concurrent login.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { deleteExpiredSecrets, disableInactiveUsers, purgePolicyAudit } from '../../src/db/housekeeping.js';
import { initSchema } from '../../src/db/schema.js';
import { auditRow, BACKENDS, daysAgo, ids, insertMany, quietLogger, secretRow, userRow, type TestDatabase } from '../helpers/db.js';

const live = (): AbortSignal => new AbortController().signal;
const base = { dryRun: false, log: quietLogger(), batchSize: 1000 };

for (const backend of BACKENDS) {
  describe(`housekeeping on ${backend.name}`, () => {
    let t: TestDatabase;
    let db: Knex;

    before(async () => {
      t = await backend.create();
      db = t.db;
      await initSchema(db);
    });
    after(async () => t?.drop());
    beforeEach(async () => {
      for (const table of ['secret', 'policy_audit', 'user']) await db(table).del();
    });

    describe('clean (purgePolicyAudit)', () => {
      const seed = async (): Promise<void> => {
        await insertMany(db, 'policy_audit', [
          auditRow(db, 1, daysAgo(db, 10)),
          auditRow(db, 2, daysAgo(db, 179)),
          auditRow(db, 3, daysAgo(db, 181)),
          auditRow(db, 4, daysAgo(db, 400)),
          auditRow(db, 5, daysAgo(db, 0)),
          auditRow(db, 7, daysAgo(db, 3650)),
        ]);
      };

      test('deletes exactly the rows deleted more than max-reserve-days ago', async () => {
        await seed();
        const r = await purgePolicyAudit(db, { ...base, maxReserveDays: 180, signal: live() });
        assert.equal(r.rows, 3);
        assert.equal(r.dryRun, false);
        assert.match(String(r.summary), /deleted 3 policy_audit rows/);
        assert.deepEqual(await ids(db, 'policy_audit'), [1, 2, 5]);
      });

      test('dry-run counts and changes nothing', async () => {
        await seed();
        const r = await purgePolicyAudit(db, { ...base, dryRun: true, maxReserveDays: 180, signal: live() });
        assert.equal(r.rows, 3);
        assert.equal(r.dryRun, true);
        assert.match(String(r.summary), /would delete 3/);
        assert.deepEqual(await ids(db, 'policy_audit'), [1, 2, 3, 4, 5, 7]);
      });

      test('refuses max-reserve-days below 1', async () => {
        await assert.rejects(purgePolicyAudit(db, { ...base, maxReserveDays: 0, signal: live() }), RangeError);
      });

      for (const [n, batches] of [[20, 4], [21, 5], [4, 1], [5, 1], [6, 2]] as const) {
        test(`batch boundaries: ${n} expired rows in batches of 5 -> ${batches} batches`, async () => {
          await insertMany(db, 'policy_audit', Array.from({ length: n }, (_, i) => auditRow(db, 100 + i * 7, daysAgo(db, 365))));
          const dry = await purgePolicyAudit(db, { ...base, dryRun: true, batchSize: 5, maxReserveDays: 30, signal: live() });
          assert.equal(dry.rows, n);
          assert.equal(dry.batches, batches);
          const r = await purgePolicyAudit(db, { ...base, batchSize: 5, maxReserveDays: 30, signal: live() });
          assert.equal(r.rows, n);
          assert.equal(r.batches, batches);
          assert.deepEqual(await ids(db, 'policy_audit'), []);
        });
      }

      test('kept rows between expired ones: each window deletes only its expired rows', async () => {
        await insertMany(db, 'policy_audit', Array.from({ length: 17 }, (_, i) => auditRow(db, i + 1, daysAgo(db, i % 3 === 0 ? 1 : 365))));
        const r = await purgePolicyAudit(db, { ...base, batchSize: 4, maxReserveDays: 30, signal: live() });
        assert.equal(r.rows, 11);
        assert.equal(r.batches, 5);
        assert.deepEqual(await ids(db, 'policy_audit'), [1, 4, 7, 10, 13, 16]);
      });

      test('empty table: no batches', async () => {
        const r = await purgePolicyAudit(db, { ...base, maxReserveDays: 30, signal: live() });
        assert.equal(r.rows, 0);
        assert.equal(r.batches, 0);
      });

      test('abort between batches stops after the current batch and throws the reason', async () => {
        await insertMany(db, 'policy_audit', Array.from({ length: 23 }, (_, i) => auditRow(db, i + 1, daysAgo(db, 365))));
        const ac = new AbortController();
        const log = { ...quietLogger(), debug: () => ac.abort(new Error('stop now')) };
        log.child = () => log;
        await assert.rejects(purgePolicyAudit(db, { ...base, log, batchSize: 5, maxReserveDays: 30, signal: ac.signal }), /stop now/);
        assert.deepEqual(await ids(db, 'policy_audit'), Array.from({ length: 18 }, (_, i) => i + 6));
      });

      test('an already aborted signal runs nothing', async () => {
        await seed();
        const ac = new AbortController();
        ac.abort(new Error('shutdown'));
        let queries = 0;
        const count = (): void => void queries++;
        db.on('query', count);
        try {
          await assert.rejects(purgePolicyAudit(db, { ...base, maxReserveDays: 180, signal: ac.signal }), /shutdown/);
        } finally {
          db.removeListener('query', count);
        }
        assert.equal(queries, 0);
      });
    });

    describe('task (disableInactiveUsers)', () => {
      const opts = { ...base, maxInactiveDays: 180, includeAdmins: false, disableSecrets: false };
      let u: Record<string, number>;
      const seed = async (): Promise<void> => {
        const rows = {
          recent: userRow(db, { loginedAt: daysAgo(db, 10) }),
          edge: userRow(db, { loginedAt: daysAgo(db, 179) }),
          stale: userRow(db, { loginedAt: daysAgo(db, 181) }),
          ancient: userRow(db, { loginedAt: daysAgo(db, 2000), createdAt: daysAgo(db, 2001) }),
          neverNew: userRow(db, { loginedAt: null, createdAt: daysAgo(db, 5) }),
          neverOld: userRow(db, { loginedAt: null, createdAt: daysAgo(db, 200) }),
          admin: userRow(db, { isAdmin: 1, loginedAt: daysAgo(db, 500) }),
          adminNever: userRow(db, { isAdmin: 1, loginedAt: null, createdAt: daysAgo(db, 500) }),
          disabled: userRow(db, { status: 0, loginedAt: daysAgo(db, 500) }),
          nullStatus: userRow(db, { status: null, loginedAt: daysAgo(db, 500) }),
        };
        u = {};
        for (const [k, row] of Object.entries(rows)) {
          await db('user').insert(row);
          const found = (await db('user').where('name', row.name as string).first('id')) as { id: number };
          u[k] = Number(found.id);
        }
      };
      const disabledNames = async (): Promise<string[]> => {
        const set = new Set(await ids(db, 'user', (q) => q.where('status', 0)));
        return Object.keys(u).filter((k) => set.has(u[k]!));
      };

      test('disables exactly the inactive non-admins; never-logged-in users are judged by createdAt', async () => {
        await seed();
        const before = (await db('user').where('id', u.stale!).first()) as Record<string, unknown>;
        const r = await disableInactiveUsers(db, { ...opts, signal: live() });
        assert.equal(r.rows, 3);
        assert.equal(r.examined, 10);
        assert.deepEqual((await disabledNames()).sort(), ['ancient', 'disabled', 'neverOld', 'stale']);
        // Only status and updatedAt are written.
        const afterRow = (await db('user').where('id', u.stale!).first()) as Record<string, unknown>;
        for (const col of ['name', 'nickname', 'password', 'email', 'isAdmin', 'loginedAt', 'createdAt', 'extendShadow']) {
          assert.deepEqual(afterRow[col], before[col], col);
        }
        assert.equal(afterRow.status, 0);
        const untouched = (await db('user').where('id', u.nullStatus!).first()) as Record<string, unknown>;
        assert.equal(untouched.status, null);
      });

      test('include-admins also disables inactive admins', async () => {
        await seed();
        const r = await disableInactiveUsers(db, { ...opts, includeAdmins: true, signal: live() });
        assert.equal(r.rows, 5);
        assert.deepEqual((await disabledNames()).sort(), ['admin', 'adminNever', 'ancient', 'disabled', 'neverOld', 'stale']);
      });

      test('dry-run counts and changes nothing', async () => {
        await seed();
        const snapshot = await db('user').select('*').orderBy('id');
        const r = await disableInactiveUsers(db, { ...opts, dryRun: true, signal: live() });
        assert.equal(r.rows, 3);
        assert.equal(r.dryRun, true);
        assert.deepEqual(await db('user').select('*').orderBy('id'), snapshot);
      });

      test('max-inactive-days=0 is off and runs no query at all', async () => {
        await seed();
        let queries = 0;
        const count = (): void => void queries++;
        db.on('query', count);
        try {
          const r = await disableInactiveUsers(db, { ...opts, maxInactiveDays: 0, signal: live() });
          assert.equal(r.rows, 0);
          assert.match(String(r.summary), /off/);
        } finally {
          db.removeListener('query', count);
        }
        assert.equal(queries, 0);
        assert.deepEqual(await disabledNames(), ['disabled']);
      });

      test('examines every user, not just the 1000 highest ids (batch boundaries)', async () => {
        const rows = Array.from({ length: 2501 }, (_, i) => userRow(db, { loginedAt: daysAgo(db, i % 2 === 0 ? 300 : 3) }));
        await insertMany(db, 'user', rows);
        const r = await disableInactiveUsers(db, { ...opts, batchSize: 500, signal: live() });
        assert.equal(r.examined, 2501);
        assert.equal(r.rows, 1251);
        assert.equal(r.batches, 6);
        const lowest = (await db('user').orderBy('id').first('status')) as { status: number };
        assert.equal(lowest.status, 0);
        const active = await db('user').where('status', 1).count({ n: '*' }).first();
        assert.equal(Number(active?.n), 1250);
      });

      test('abort between batches', async () => {
        await insertMany(db, 'user', Array.from({ length: 30 }, () => userRow(db, { loginedAt: daysAgo(db, 300) })));
        const ac = new AbortController();
        let statements = 0;
        const onQuery = (q: { sql: string }): void => {
          if (/^update/i.test(q.sql) && ++statements === 2) ac.abort(new Error('lock lost'));
        };
        db.on('query', onQuery);
        try {
          await assert.rejects(disableInactiveUsers(db, { ...opts, batchSize: 10, signal: ac.signal }), /lock lost/);
        } finally {
          db.removeListener('query', onQuery);
        }
        const disabled = await db('user').where('status', 0).count({ n: '*' }).first();
        assert.equal(Number(disabled?.n), 20);
      });

      test('disable-secrets expires the disabled users\' secrets, and only theirs', async () => {
        await seed();
        const now = Math.floor(Date.now() / 1000);
        const stale = (await db('user').where('id', u.stale!).first('name')) as { name: string };
        const recent = (await db('user').where('id', u.recent!).first('name')) as { name: string };
        await insertMany(db, 'secret', [
          secretRow(stale.name, 0, { description: 'never' }),
          secretRow(stale.name, now + 86_400 * 30, { description: 'valid' }),
          secretRow(stale.name, now - 86_400 * 30, { description: 'expired' }),
          secretRow(recent.name, 0, { description: 'other-never' }),
          secretRow(recent.name, now + 86_400, { description: 'other-valid' }),
        ]);
        const dry = await disableInactiveUsers(db, { ...opts, disableSecrets: true, dryRun: true, signal: live() });
        assert.equal(dry.secretsExpired, 2);
        const r = await disableInactiveUsers(db, { ...opts, disableSecrets: true, signal: live() });
        assert.equal(r.rows, 3);
        assert.equal(r.secretsExpired, 2);
        const secrets = (await db('secret').select('description', 'expires')) as Array<{ description: string; expires: number }>;
        const by = Object.fromEntries(secrets.map((s) => [s.description, Number(s.expires)]));
        assert.ok(by.never! > 0 && by.never! <= now + 5, 'never-expiring secret now expired');
        assert.ok(by.valid! <= now + 5, 'valid secret now expired');
        assert.equal(by.expired, now - 86_400 * 30);
        assert.equal(by['other-never'], 0);
        assert.equal(by['other-valid'], now + 86_400);
        assert.deepEqual((await disabledNames()).sort(), ['ancient', 'disabled', 'neverOld', 'stale']);
      });

      if (backend.name === 'mariadb') {
        test('a login committed while the UPDATE waits keeps the user active (no lost update)', async () => {
          const row = userRow(db, { loginedAt: daysAgo(db, 300) });
          await db('user').insert(row);
          const trx = await db.transaction();
          await trx('user').where('name', row.name as string).update({ loginedAt: new Date() });
          const run = disableInactiveUsers(db, { ...opts, signal: live() });
          await new Promise((r) => setTimeout(r, 300));
          await trx.commit();
          const r = await run;
          assert.equal(r.rows, 0);
          const now = (await db('user').where('name', row.name as string).first('status')) as { status: number };
          assert.equal(now.status, 1);
        });
      }
    });

    describe('cleansecret (deleteExpiredSecrets)', () => {
      const seed = async (): Promise<Record<string, number>> => {
        await db('user').insert(userRow(db, { name: 'owner' }));
        const now = Math.floor(Date.now() / 1000);
        await insertMany(db, 'secret', [
          secretRow('owner', 0, { description: 'never' }),
          secretRow('owner', now - 2 * 86_400, { description: 'twoDays' }),
          secretRow('owner', now - 40 * 86_400, { description: 'fortyDays' }),
          secretRow('owner', now + 3600, { description: 'valid' }),
          secretRow('owner', 1, { description: 'epoch' }),
        ]);
        const rows = (await db('secret').select('id', 'description')) as Array<{ id: number; description: string }>;
        return Object.fromEntries(rows.map((r) => [r.description, Number(r.id)]));
      };
      const left = async (): Promise<string[]> => ((await db('secret').select('description').orderBy('id')) as Array<{ description: string }>).map((r) => r.description);

      test('deletes expired secrets; expires=0 never expires', async () => {
        await seed();
        const r = await deleteExpiredSecrets(db, { ...base, graceDays: 0, signal: live() });
        assert.equal(r.rows, 3);
        assert.deepEqual(await left(), ['never', 'valid']);
      });

      test('grace-days keeps recently expired secrets', async () => {
        await seed();
        const r = await deleteExpiredSecrets(db, { ...base, graceDays: 3, signal: live() });
        assert.equal(r.rows, 2);
        assert.deepEqual(await left(), ['never', 'twoDays', 'valid']);
      });

      test('dry-run changes nothing', async () => {
        await seed();
        const r = await deleteExpiredSecrets(db, { ...base, dryRun: true, graceDays: 0, batchSize: 2, signal: live() });
        assert.equal(r.rows, 3);
        assert.equal(r.batches, 3);
        assert.deepEqual(await left(), ['never', 'twoDays', 'fortyDays', 'valid', 'epoch']);
      });

      test('batches of 2', async () => {
        await seed();
        const r = await deleteExpiredSecrets(db, { ...base, graceDays: 0, batchSize: 2, signal: live() });
        assert.equal(r.rows, 3);
        assert.equal(r.batches, 3);
        assert.deepEqual(await left(), ['never', 'valid']);
      });
    });
  });
}
