/**
 * `iamwatch run` against a private redis-server that is stopped mid-run and restarted on the same
 * port; and `iamwatch once` (lock held -> exit 3 naming the holder, --no-lock, failure, --json).
 *
 * The restarted server is not persistent: it comes back empty, so claims, fences and interval
 * state are gone. What the guarantee promises, and this test checks, is: fail closed while Redis
 * is unreachable (skip and say so, never run unclaimed), no crash, resume; no cron occurrence runs
 * twice (each is claimed at its own time, so the lost claims are never asked for again); fences
 * grow while the state survives, and after it was lost too (they follow Redis's clock).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jobKeys } from '../../src/coordination/redis/keys.js';
import { CLAIM_AHEAD_MS } from '../../src/scheduler/scheduler.js';
import { runCli } from '../helpers/cli.js';
import { parseLogLines, startInstance, type Instance, readRuns, recordCommand } from '../helpers/instance.js';
import { openClient, sleep, startRedisServer, uniquePrefix, type PrivateRedis, type TestRedisClient } from '../helpers/redis.js';

let redis: PrivateRedis;
let dir: string;
const started: Instance[] = [];

before(async () => {
  redis = await startRedisServer();
  dir = await mkdtemp(path.join(tmpdir(), 'iwtest-outage-'));
});

after(async () => {
  for (const i of started) if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(name: string, prefix: string, out: string, jobLines: string[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, [`REDIS_URL=${redis.url}`, `IAMWATCH_PREFIX=${prefix}`, `OUT=${out}`, 'SHUTDOWN_TIMEOUT=10s', ...jobLines, ''].join('\n'));
  return file;
}

describe('Redis stopped for ~3 s mid-run, then restarted empty on the same port', () => {
  test('no crash, skips logged as redis-unavailable at warn or above, no duplicate, resumes', async () => {
    const prefix = uniquePrefix();
    const out = path.join(dir, 'outage-runs.log');
    const config = await writeConfig('outage.conf', prefix, out, [`* * * * * *  cron  exec  name=tick ${recordCommand(0)}`, `@every 500ms  interval  exec  name=iv lock-ttl=3s ${recordCommand(0.2)}`]);
    const fleet = ['p', 'q'].map((id) => startInstance(id, config));
    started.push(...fleet);
    await Promise.all(fleet.map((i) => i.waitFor((l) => l.event === 'started', 15_000, 'started line')));
    await sleep(2_200);

    const stoppedAt = Date.now();
    await redis.stop();
    const downAt = Date.now();
    await sleep(3_000);
    const restartBegan = Date.now();
    await redis.restart();
    const restartedAt = Date.now();

    // Both instances reconnect (bounded backoff, at most 5 s between attempts) and run again.
    const resumed = async (): Promise<boolean> => (await readRuns(out)).some((r) => r.job === 'tick' && r.start > restartedAt + 50);
    const deadline = Date.now() + 9_000;
    while (!(await resumed()) && Date.now() < deadline) await sleep(100);
    assert.ok(await resumed(), 'no run after the restart');
    for (const i of fleet) await i.waitFor((l) => l.event === 'redis-up' && l.level === 'info', 9_000, 'redis-up after the restart');
    await sleep(1_500);

    for (const i of fleet) {
      assert.equal(i.child.exitCode, null, `${i.id} is still running`);
      i.child.kill('SIGTERM');
    }
    const results = await Promise.all(fleet.map((i) => i.done));
    for (const [n, r] of results.entries()) {
      assert.equal(r.code, 0, `${fleet[n]!.id}: exit ${r.code}\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /internal error|Unhandled|TypeError/);
    }

    const runs = await readRuns(out);
    const dump = runs.map((r) => `${r.job} ${r.occurrence} ${r.instance} ${r.start} ${r.end} fence=${r.fence}`).join('\n');
    const tick = runs.filter((r) => r.job === 'tick');

    // Never run without a claim: nothing started while the server was down, except runs claimed
    // before it went away (claims are made up to CLAIM_AHEAD_MS ahead of the nominal time).
    for (const r of runs) assert.ok(r.start < downAt + CLAIM_AHEAD_MS + 100 || r.start > restartBegan, `ran while Redis was down:\n${r.job} ${r.start}\n${dump}`);

    // No cron occurrence ran twice, before, across or after the outage.
    const ids = tick.map((r) => r.occurrence);
    assert.equal(new Set(ids).size, ids.length, `a tick ran twice\n${dump}`);
    assert.ok(tick.some((r) => r.start < stoppedAt) && tick.some((r) => r.start > restartedAt), dump);

    // Every tick occurrence between the first and the last run either ran or was logged as
    // skipped for redis-unavailable by every instance, at warn or above: none lost silently.
    const lines = fleet.flatMap((i) => i.lines.map((l) => ({ ...l, inst: i.id })));
    const skips = lines.filter((l) => l.event === 'skipped' && l.reason === 'redis-unavailable');
    assert.ok(skips.length > 0, 'skips were logged');
    for (const s of skips) assert.ok(['warn', 'error', 'fatal'].includes(s.level), `skip logged at ${s.level}: ${JSON.stringify(s)}`);
    assert.ok(!lines.some((l) => l.event === 'skipped' && l.reason === 'redis-unavailable' && /already/i.test(l.msg)), 'never reported as "already run"');
    const times = ids.map(Date.parse).sort((a, b) => a - b);
    for (let t = times[0]!; t <= times.at(-1)!; t += 1_000) {
      const iso = new Date(t).toISOString();
      if (ids.includes(iso)) continue;
      for (const i of fleet) {
        const skipped = lines.find((l) => l.inst === i.id && l.job === 'tick' && l.occurrence === iso && l.event === 'skipped');
        assert.ok(skipped, `${i.id}: tick ${iso} neither ran nor was logged as skipped\n${dump}`);
        assert.equal(skipped.reason, 'redis-unavailable');
      }
    }
    // Each instance logged that Redis went down at error level (once, not once per command).
    for (const i of fleet) {
      const downs = i.lines.filter((l) => l.event === 'redis-down');
      assert.ok(downs.length >= 1 && downs.every((l) => l.level === 'error' || l.level === 'warn'), `${i.id}: redis-down lines ${JSON.stringify(downs)}`);
      assert.ok(downs.length <= 3, `${i.id}: ${downs.length} redis-down lines: the error is logged once per outage`);
    }

    // Interval runs never overlapped, even across the outage (a run in progress either finished
    // before the lock could lapse, or was aborted as lock-lost).
    const iv = runs.filter((r) => r.job === 'iv').sort((a, b) => a.start - b.start);
    for (let n = 1; n < iv.length; n++) assert.ok(iv[n]!.start >= iv[n - 1]!.end, `interval runs overlap\n${dump}`);
    // Fences: strictly increasing while the state lived, and the empty server's are larger still.
    const before = runs.filter((r) => r.start < stoppedAt);
    const afterRestart = runs.filter((r) => r.start > restartedAt);
    for (const part of [before, afterRestart]) {
      for (const job of ['tick', 'iv']) {
        const fences = part.filter((r) => r.job === job).sort((a, b) => a.start - b.start).map((r) => r.fence);
        assert.ok(fences.every((f, n) => n === 0 || f > fences[n - 1]!), `${job} fences ${fences.join(',')}`);
      }
    }
    for (const job of ['tick', 'iv']) {
      const old = Math.max(...before.filter((r) => r.job === job).map((r) => r.fence));
      assert.ok(afterRestart.filter((r) => r.job === job).every((r) => r.fence > old), `${job}: a fence after the restart is not above ${old}\n${dump}`);
    }
  });
});

describe('iamwatch once', () => {
  let admin: TestRedisClient;
  const prefix = uniquePrefix();
  let config: string;
  const out = (): string => path.join(dir, 'once-runs.log');

  before(async () => {
    if (!redis.running) await redis.restart();
    admin = await openClient(redis.url);
    config = await writeConfig('once.conf', prefix, out(), [
      `@every 1h  interval  exec  name=busy lock-ttl=3s ${recordCommand(4)}`,
      `@every 1h  interval  exec  name=quick ${recordCommand(0)}`,
      '@every 1h  interval  exec  name=fails command=\'echo about to fail >&2; exit 7\'',
    ]);
  });
  after(async () => {
    await admin.close();
  });

  test('exit 3 naming the holder while a fleet run of the job is in progress; --no-lock warns and runs', async () => {
    const holder = startInstance('holder-7', config);
    started.push(holder);
    await holder.waitFor((l) => l.event === 'run-started' && l.job === 'busy', 15_000, 'busy to start');

    const r = await runCli(['once', 'busy', '-c', config, '--log-format', 'json', '--instance-id', 'cli-1']);
    assert.equal(r.code, 3, `exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, /job busy is running on holder-7 since \d{4}-\d\d-\d\dT/);
    assert.equal(r.stdout, '');
    assert.equal((await readRuns(out())).filter((x) => x.instance === 'cli-1').length, 0, 'it did not run');

    const n = await runCli(['once', 'quick', '-c', config, '--no-lock', '--log-format', 'json', '--instance-id', 'cli-2', '--json']);
    assert.equal(n.code, 0, n.stderr);
    const warn = parseLogLines(n.stderr).find((l) => l.event === 'no-lock');
    assert.ok(warn && warn.level === 'warn' && /without the running lock/.test(warn.msg), n.stderr);
    const report = JSON.parse(n.stdout) as { locked: boolean; fence: number; outcome: string };
    assert.equal(report.locked, false);
    assert.equal(report.fence, 0);
    assert.equal(report.outcome, 'ok');
    // --no-lock on the busy job overlaps the fleet run, on purpose.
    const o = await runCli(['once', 'busy', '-c', config, '--no-lock', '--log-format', 'json', '--instance-id', 'cli-3'], { timeoutMs: 15_000 });
    assert.equal(o.code, 0, o.stderr);
    assert.ok(parseLogLines(o.stderr).some((l) => l.event === 'no-lock' && l.level === 'warn'));
    holder.child.kill('SIGTERM');
    assert.equal((await holder.done).code, 0);
  });

  test('exit 1 on a failing command; --json prints the report', async () => {
    const r = await runCli(['once', 'fails', '-c', config, '--json', '--log-format', 'json', '--instance-id', 'cli-4']);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(report.job, 'fails');
    assert.equal(report.watcher, 'exec');
    assert.equal(report.outcome, 'failed');
    assert.match(String(report.error), /exited with status 7/);
    assert.equal(report.locked, true);
    // The command's stderr was streamed into the logs with the job name.
    const streamed = parseLogLines(r.stderr).find((l) => l.msg === 'about to fail');
    assert.ok(streamed && streamed.job === 'fails' && streamed.stream === 'stderr', r.stderr);
    assert.equal(await admin.zCard(jobKeys(prefix, 'fails').running), 0, 'lock released after the failure');
  });

  test('--json shape of a successful run', async () => {
    const r = await runCli(['once', 'quick', '-c', config, '--json', '--log-format', 'json', '--instance-id', 'cli-5']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const k of ['attempts', 'dryRun', 'durationMs', 'endedAt', 'error', 'fence', 'instance', 'job', 'locked', 'occurrence', 'outcome', 'result', 'startedAt', 'watcher']) {
      assert.ok(k in report, `--json has ${k}: ${r.stdout}`);
    }
    assert.equal(report.error, null, 'no error on success');
    assert.equal(report.job, 'quick');
    assert.equal(report.instance, 'cli-5');
    assert.equal(report.outcome, 'ok');
    assert.equal(report.attempts, 1);
    assert.equal(report.locked, true);
    assert.equal(report.dryRun, false);
    assert.match(String(report.occurrence), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(typeof report.fence === 'number' && report.fence >= 1);
    assert.ok(typeof report.durationMs === 'number' && Date.parse(String(report.endedAt)) >= Date.parse(String(report.startedAt)));
    assert.match(String(report.startedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(String((report.result as { summary?: string }).summary), /^exit 0/);
    const line = (await readRuns(out())).find((x) => x.instance === 'cli-5');
    assert.ok(line, 'the command ran with IAMWATCH_INSTANCE set');
    assert.equal(line.fence, report.fence);
    assert.equal(await admin.zCard(jobKeys(prefix, 'quick').running), 0, 'lock released');
    // A manual interval run records its end like any interval run.
    assert.ok(Number(await admin.hGet(jobKeys(prefix, 'quick').state, 'endedAt')) >= line.end - 50);
  });
});
