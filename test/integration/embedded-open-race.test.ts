/**
 * Processes that start together on a new jobs file race to create its state database and switch
 * it to WAL. SQLite settles such a race by failing one side at once: a switch to WAL while another
 * connection holds the write lock of the still rollback-mode file returns SQLITE_BUSY without
 * waiting for the busy timeout. A second process here holds exactly that lock, for a while or for
 * too long, and the opener must wait it out or say why it could not.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BUSY_TIMEOUT_MS, openStateDatabase } from '../../src/coordination/embedded/sqlite.js';
import { IamwatchError } from '../../src/base/errors.js';

const SQLITE = createRequire(import.meta.url).resolve('better-sqlite3');

/** Creates `file` in rollback mode, takes its write lock, says "held", and commits after `ms`. */
const HOLDER = `
const [file, ms] = [process.argv[1], Number(process.argv[2])];
const db = new (require(${JSON.stringify(SQLITE)}))(file);
db.exec('CREATE TABLE placeholder (x)');
db.exec('BEGIN IMMEDIATE');
process.stdout.write('held');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
db.exec('COMMIT');
db.close();
`;

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iwtest-open-race-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function holdWriteLock(file: string, ms: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', HOLDER, file, String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the lock holder exited ${code}`)));
  });
  return child;
}

const exited = (child: ChildProcess): Promise<unknown> => (child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r)));

test('a new state database whose write lock another opener holds briefly: the open waits and succeeds', async () => {
  const file = path.join(dir, 'brief', 'jobs.conf.sqlite');
  await mkdir(path.dirname(file));
  const holder = await holdWriteLock(file, 300);
  const t0 = Date.now();
  const db = openStateDatabase(file);
  const waited = Date.now() - t0;
  try {
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.ok(waited >= 100, `it waited for the lock (${waited} ms)`);
  } finally {
    db.close();
    await exited(holder);
  }
});

test('a write lock held past the busy timeout: UNAVAILABLE, saying the file was kept locked', async () => {
  const file = path.join(dir, 'long', 'jobs.conf.sqlite');
  await mkdir(path.dirname(file));
  const holder = await holdWriteLock(file, BUSY_TIMEOUT_MS + 300);
  try {
    assert.throws(
      () => openStateDatabase(file),
      (err: unknown) => err instanceof IamwatchError && err.code === 'UNAVAILABLE' && /kept it locked for over 2000 ms; try again/.test(err.message),
    );
  } finally {
    await exited(holder);
  }
});
