/**
 * `iamwatch pause` and `resume` through the built CLI, as real processes, on Redis (the shared
 * server, a unique prefix) and on the embedded store (no REDIS_URL): two `run` instances run an
 * every-second cron job and an every-second interval job while a third process pauses them. No
 * run starts after the pause is visible (beyond the runs already claimed ahead, CLAIM_AHEAD_MS);
 * the skipped occurrences are recorded `paused` in the history, once each across the fleet;
 * `status --json` says who, since when, until when and why; `once` is refused (exit 3) saying so;
 * `resume` lets the jobs run again; `--until` lifts a pause by itself; `--all` pauses every job.
 * Then: usage errors, an unreachable store, the Redis key and its expiry, and the state database
 * migration from schema version 1.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SqliteStore } from '../../src/coordination/embedded/sqlite-store.js';
import { openStateDatabase } from '../../src/coordination/embedded/sqlite.js';
import { SCHEMA_VERSION } from '../../src/coordination/embedded/schema.js';
import { connectRedis } from '../../src/coordination/redis/client.js';
import { RedisStore } from '../../src/coordination/redis/redis-store.js';
import { CLAIM_AHEAD_MS } from '../../src/scheduler/scheduler.js';
import { runCli } from '../helpers/cli.js';
import { readRuns, recordCommand, startInstance, type Instance, type RunLine } from '../helpers/instance.js';
import { deletePrefix, openClient, SHARED_REDIS_URL, sleep, uniquePrefix, type TestRedisClient } from '../helpers/redis.js';

let dir: string;
let admin: TestRedisClient;
const prefixes: string[] = [];
const started: Instance[] = [];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iwtest-pause-'));
  admin = await openClient(SHARED_REDIS_URL);
});

after(async () => {
  for (const i of started) if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
  for (const p of prefixes) await deletePrefix(admin, p);
  await admin.close();
  await rm(dir, { recursive: true, force: true });
});

const ME = `${userInfo().username}@${hostname()}`;

interface Pause {
  by: string;
  at: string;
  until: string | null;
  reason: string | null;
}
interface StatusJson {
  jobs: Array<{ name: string; paused: Pause | null }>;
}
interface HistoryRecord {
  job: string;
  occurrence: string;
  outcome: string;
  reason?: string;
  error?: string;
}

/** A jobs file in its own folder (so its own state directory); on Redis with its own prefix. */
async function writeConfig(name: string, store: 'redis' | 'embedded', out: string): Promise<string> {
  const folder = await mkdtemp(path.join(dir, `${name}-`));
  const file = path.join(folder, `${name}.conf`);
  const redis: string[] = [];
  if (store === 'redis') {
    const prefix = uniquePrefix('iwpause');
    prefixes.push(prefix);
    redis.push(`REDIS_URL=${SHARED_REDIS_URL}`, `IAMWATCH_PREFIX=${prefix}`);
  }
  await writeFile(
    file,
    [...redis, `OUT=${out}`, 'SHUTDOWN_TIMEOUT=5s', `* * * * * *  cron  exec  name=tick ${recordCommand(0)}`, `@every 1s  interval  exec  name=iv ${recordCommand(0)}`, ''].join('\n'),
  );
  return file;
}

const cli = async (args: string[], config: string): Promise<{ code: number | null; stdout: string; stderr: string }> => runCli([...args, '-c', config], { timeoutMs: 20_000 });

async function ok(args: string[], config: string): Promise<string> {
  const r = await cli(args, config);
  assert.equal(r.code, 0, `iamwatch ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return r.stdout;
}

/** When a run started: its nominal time for cron (what was claimed), its start for interval runs. */
const startOf = (r: RunLine): number => (r.job === 'tick' ? Date.parse(r.occurrence) : r.start);

async function runsOf(out: string, job: string, after: number): Promise<RunLine[]> {
  return (await readRuns(out)).filter((r) => r.job === job && startOf(r) > after);
}

/** Waits (bounded) until `job` has a run starting after `after`. */
async function waitForRun(out: string, job: string, after: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await runsOf(out, job, after)).length === 0) {
    assert.ok(Date.now() < deadline, `no run of ${job} ${what} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function stop(instances: Instance[]): Promise<void> {
  for (const i of instances) i.child.kill('SIGTERM');
  for (const [n, r] of (await Promise.all(instances.map((i) => i.done))).entries()) assert.equal(r.code, 0, `${instances[n]!.id}: exit ${r.code}\n${r.stderr}`);
}

// The two stores' fleets are independent: they run side by side.
describe('two run processes per store', { concurrency: true }, () => {
  for (const store of ['redis', 'embedded'] as const) {
    // Within one store the steps build on each other: one at a time.
    describe(`pause and resume across two run processes: ${store}`, { concurrency: 1 }, () => {
      let config: string;
      let out: string;
      let fleet: Instance[];

      before(async () => {
        out = path.join(dir, `${store}-runs.log`);
        config = await writeConfig(store, store, out);
        fleet = [startInstance(`${store}-a`, config), startInstance(`${store}-b`, config)];
        started.push(...fleet);
        const t0 = Date.now();
        await waitForRun(out, 'tick', t0, 15_000, 'before the pause');
        await waitForRun(out, 'iv', t0, 15_000, 'before the pause');
      });

      after(async () => {
        await stop(fleet);
      });

      test('pause: no run starts once the pause is visible; skips are recorded paused; status shows who, why, until; once exits 3', async () => {
        const untilText = new Date(Date.now() + 3_600_000).toISOString();
        const paused = JSON.parse(await ok(['pause', 'tick', 'iv', '--reason', 'db migration', '--until', untilText, '--json'], config)) as { paused: Array<Pause & { job: string }> };
        const visibleAt = Date.now(); // the pause was written before the command returned
        assert.deepEqual(paused.paused.map((p) => [p.job, p.by, p.reason, p.until]), [
          ['tick', ME, 'db migration', untilText],
          ['iv', ME, 'db migration', untilText],
        ]);
        await sleep(2_600);
        assert.deepEqual(await runsOf(out, 'tick', visibleAt + CLAIM_AHEAD_MS), [], 'no cron run after the pause (beyond one claimed ahead)');
        assert.deepEqual(await runsOf(out, 'iv', visibleAt + CLAIM_AHEAD_MS), [], 'no interval run after the pause');

        const status = JSON.parse(await ok(['status', '--json'], config)) as StatusJson;
        for (const name of ['tick', 'iv']) {
          const p = status.jobs.find((j) => j.name === name)?.paused;
          assert.ok(p, `${name} is shown paused`);
          assert.equal(p.by, ME);
          assert.equal(p.reason, 'db migration');
          assert.equal(p.until, untilText);
          assert.ok(Math.abs(Date.parse(p.at) - visibleAt) < 5_000, `since ${p.at}`);
        }

        const history = JSON.parse(await ok(['history', '--json', '-n', '500'], config)) as HistoryRecord[];
        const skips = history.filter((r) => r.outcome === 'skipped' && r.reason === 'paused');
        const tickSkips = skips.filter((r) => r.job === 'tick').map((r) => r.occurrence);
        assert.ok(tickSkips.length >= 2, `paused skips of tick: ${tickSkips.join(', ')}`);
        assert.equal(new Set(tickSkips).size, tickSkips.length, 'each paused occurrence is recorded once across the fleet');
        assert.ok(skips.filter((r) => r.job === 'iv').length >= 1, 'the interval job records paused skips too');
        assert.match(skips[0]!.error ?? '', new RegExp(`by ${ME.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} since .*db migration`));

        const refused = await cli(['once', 'tick', '--log-format', 'json'], config);
        assert.equal(refused.code, 3, `once: exit ${refused.code}\n${refused.stderr}`);
        assert.match(refused.stderr, /job tick is paused \(by \S+@\S+ since \d{4}-\d\d-\d\dT[^,]+, until \d{4}-[^,]+, reason: db migration\); not running it\. `iamwatch resume tick` lifts the pause/);
        assert.equal(refused.stdout, '');
        const forced = await cli(['once', 'tick', '--no-lock', '--log-format', 'json'], config);
        assert.equal(forced.code, 3, `once --no-lock: exit ${forced.code}\n${forced.stderr}`);
        assert.match(forced.stderr, /job tick is paused/);

        const resumedAt = Date.now();
        const resumed = JSON.parse(await ok(['resume', 'tick', 'iv', '--json'], config)) as { resumed: Array<{ job: string }>; notPaused: string[] };
        assert.deepEqual(resumed.resumed.map((r) => r.job), ['tick', 'iv']);
        assert.deepEqual(resumed.notPaused, []);
        await waitForRun(out, 'tick', resumedAt, 5_000, 'after resume');
        await waitForRun(out, 'iv', resumedAt, 5_000, 'after resume');
        assert.equal((JSON.parse(await ok(['status', '--json'], config)) as StatusJson).jobs.every((j) => j.paused === null), true);
      });

      test('--until 2s: the pause lifts itself; nothing ran meanwhile', async () => {
        const set = JSON.parse(await ok(['pause', 'tick', '--until', '2s', '--json'], config)) as { paused: Pause[] };
        const visibleAt = Date.now();
        const until = Date.parse(set.paused[0]!.until ?? '');
        assert.ok(until > visibleAt && until <= visibleAt + 2_000, `until ${set.paused[0]!.until}: 2 s from when the command ran`);
        await waitForRun(out, 'tick', until, 5_000, 'once the pause lifted itself');
        const during = (await runsOf(out, 'tick', visibleAt + CLAIM_AHEAD_MS)).filter((r) => startOf(r) < until);
        assert.deepEqual(during, [], 'no run while it was paused');
        assert.equal((JSON.parse(await ok(['status', '--json'], config)) as StatusJson).jobs.find((j) => j.name === 'tick')?.paused, null);
      });

      test('--all pauses every job of the jobs file; resume --all lifts them', async () => {
        const text = await ok(['pause', '--all'], config);
        assert.match(text, /paused 2 jobs fleet-wide/);
        assert.match(text, /jobs added to it later are not paused/);
        const visibleAt = Date.now();
        const status = JSON.parse(await ok(['status', '--json'], config)) as StatusJson;
        assert.deepEqual(status.jobs.map((j) => [j.name, j.paused ? [j.paused.by, j.paused.until] : 'not paused']), [['tick', [ME, null]], ['iv', [ME, null]]]);
        await sleep(1_200);
        assert.deepEqual(await runsOf(out, 'tick', visibleAt + CLAIM_AHEAD_MS), []);
        const resumedAt = Date.now();
        assert.match(await ok(['resume', '--all'], config), /resumed 2 jobs/);
        await waitForRun(out, 'tick', resumedAt, 5_000, 'after resume --all');
      });
    });
  }
});

describe('pause and resume: usage and failures', () => {
  let config: string;
  before(async () => {
    config = await writeConfig('usage', 'embedded', path.join(dir, 'usage.log'));
  });

  test('unknown jobs, no jobs, both names and --all, a bad or past --until: usage errors (exit 2) on stderr', async () => {
    for (const [args, message] of [
      [['pause', 'tick', 'nope'], /no job "nope" in .*usage\.conf \(jobs: tick, iv\)/],
      [['resume', 'nope', 'nada'], /no jobs "nope", "nada" in .* \(jobs: tick, iv\)/],
      [['pause'], /name the jobs to pause, or give --all \(jobs: tick, iv\)/],
      [['pause', 'tick', '--all'], /either job names or --all/],
      [['pause', 'tick', '--until', 'soon'], /--until: "soon" is neither an ISO-8601 time .* nor a duration from now/],
      [['pause', 'tick', '--until', '2020-01-01T00:00Z'], /--until: 2020-01-01T00:00:00.000Z is not in the future/],
    ] as Array<[string[], RegExp]>) {
      const r = await cli(args, config);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    }
    const status = JSON.parse(await ok(['status', '--json'], config)) as StatusJson;
    assert.ok(status.jobs.every((j) => j.paused === null), 'nothing was paused by a refused command');
  });

  test('the store unreachable: exit 4', async () => {
    const folder = await mkdtemp(path.join(dir, 'down-'));
    const file = path.join(folder, 'down.conf');
    await writeFile(file, ['REDIS_URL=redis://127.0.0.1:1', `* * * * * *  cron  exec  name=tick command=true`, ''].join('\n'));
    const r = await cli(['pause', 'tick'], file);
    assert.equal(r.code, 4, `exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, /not reachable/);
    assert.equal(r.stdout, '');
  });
});

describe('pause storage', () => {
  test('Redis: one key per job in its hash slot, expiring at --until', async () => {
    const prefix = uniquePrefix('iwpause');
    prefixes.push(prefix);
    const connection = connectRedis(SHARED_REDIS_URL, { onError: () => {} });
    assert.ok(await connection.ready(5_000));
    const store = new RedisStore(connection, prefix);
    try {
      const until = (await store.time()) + 60_000;
      await store.pause(['purge'], { by: 'alice@host1', until, reason: 'why "quoted" \\ and ünïcode' });
      await store.pause(['poll'], { by: 'alice@host1', until: null, reason: null });
      assert.deepEqual((await admin.keys(`${prefix}:*`)).sort(), [`${prefix}:{poll}:pause`, `${prefix}:{purge}:pause`]);
      const ttl = await admin.pTTL(`${prefix}:{purge}:pause`);
      assert.ok(ttl > 50_000 && ttl <= 60_000, `expires at until (pttl ${ttl})`);
      assert.equal(await admin.pTTL(`${prefix}:{poll}:pause`), -1, 'no --until: kept until resumed');
      assert.equal((await store.pauses(['purge'])).get('purge')?.reason, 'why "quoted" \\ and ünïcode');
      // A value iamwatch did not write still counts as a pause: a job meant to stop is not started by a misread.
      await admin.set(`${prefix}:{torn}:pause`, '{"by":');
      assert.deepEqual((await store.pauses(['torn'])).get('torn'), { by: 'unknown', at: 0, until: null, reason: null });
      assert.equal((await store.claim({ job: 'torn', occurrence: 1_000, holder: { instance: 'a', occurrence: 1_000, startedAt: 0 }, ttlMs: 5_000, skipIfRunning: false })).kind, 'paused');
    } finally {
      await store.close();
    }
  });

  test('embedded: a state database of schema version 1 is migrated, its claims kept, and pauses work', async () => {
    const file = path.join(dir, 'v1.sqlite');
    const v1 = openStateDatabase(file);
    v1.exec('DROP TABLE pauses; DROP TABLE triggers');
    v1.pragma('user_version = 1');
    v1.prepare('INSERT INTO claims (job, occurrence) VALUES (?, ?)').run('purge', 5_000);
    v1.close();
    const store = SqliteStore.open(file);
    try {
      assert.equal(Number(store.db.pragma('user_version', { simple: true })), SCHEMA_VERSION);
      assert.equal(await store.newestClaim('purge'), 5_000, 'existing claims kept');
      await store.pause(['purge'], { by: 'alice@host1', until: null, reason: 'x' });
      assert.equal((await store.claim({ job: 'purge', occurrence: 6_000, holder: { instance: 'a', occurrence: 6_000, startedAt: 0 }, ttlMs: 5_000, skipIfRunning: false })).kind, 'paused');
    } finally {
      await store.close();
    }
  });
});
