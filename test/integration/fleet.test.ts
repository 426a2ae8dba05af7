/**
 * A fleet of real `iamwatch run` processes against a private redis-server: exactly one run per
 * occurrence while one instance is SIGKILLed mid-run, interval runs that never overlap, takeover
 * within the lock TTL; and graceful / forced shutdown with no orphaned exec children.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jobKeys } from '../../src/coordination/redis/keys.js';
import { startInstance, type Instance, type LogLine, readRuns, recordCommand } from '../helpers/instance.js';
import { openClient, sleep, startRedisServer, uniquePrefix, type PrivateRedis, type TestRedisClient } from '../helpers/redis.js';

/** The process exists and is not a zombie (an exited child its new parent has yet to reap). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Live members of a process group (from /proc; zombies waiting for PID 1 to reap them don't
 * count, and kill(-pgid, 0) would still see those), after waiting up to `ms` for them to go.
 */
async function groupLeft(pgid: number, ms = 1_500): Promise<number[]> {
  const members = (): number[] =>
    readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .filter((e) => {
        try {
          const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          return Number(fields[2]) === pgid && fields[0] !== 'Z';
        } catch {
          return false;
        }
      })
      .map(Number);
  const deadline = Date.now() + ms;
  for (;;) {
    const left = members();
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(25);
  }
}

/** Waits up to `ms` for every pid to be gone; returns the survivors. */
async function survivors(pids: number[], ms = 1_500): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(25);
  }
}

let redis: PrivateRedis;
let admin: TestRedisClient;
let dir: string;
const started: Instance[] = [];

before(async () => {
  redis = await startRedisServer();
  admin = await openClient(redis.url);
  dir = await mkdtemp(path.join(tmpdir(), 'iwtest-fleet-'));
});

after(async () => {
  for (const i of started) if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
  await admin.close();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(name: string, prefix: string, out: string, jobLines: string[], extra: string[] = []): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, [`REDIS_URL=${redis.url}`, `IAMWATCH_PREFIX=${prefix}`, `OUT=${out}`, ...extra, ...jobLines, ''].join('\n'));
  return file;
}

describe('three iamwatch run processes, one SIGKILLed mid-run', () => {
  test('no occurrence runs twice, interval runs never overlap, survivors take over within the lock TTL', async () => {
    const prefix = uniquePrefix();
    const out = path.join(dir, 'fleet-runs.log');
    const LOCK_TTL = 3_000;
    const INTERVAL = 500;
    const config = await writeConfig('fleet.conf', prefix, out, [
      `* * * * * *   cron      exec  name=tick ${recordCommand(0)}`,
      `@every 1s     rate      exec  name=rate ${recordCommand(0.6)}`,
      `@every 500ms  interval  exec  name=iv lock-ttl=3s kill-grace=1s ${recordCommand(0.8)}`,
    ], ['SHUTDOWN_TIMEOUT=10s']);

    const fleet = ['a', 'b', 'c'].map((id) => startInstance(id, config));
    started.push(...fleet);
    await Promise.all(fleet.map((i) => i.waitFor((l) => l.event === 'started', 15_000, 'started line')));

    // Kill whichever instance runs the interval job, 300 ms into its run.
    const firstIv = await Promise.race(fleet.map((i) => i.waitFor((l) => l.event === 'run-started' && l.job === 'iv', 10_000, 'an iv run').then(() => i)));
    // Prefer a later generation so the fleet is in its steady state: wait for the next one.
    const ivStarts = (): Array<{ inst: Instance; line: LogLine }> =>
      fleet.flatMap((inst) => inst.lines.filter((l) => l.event === 'run-started' && l.job === 'iv').map((line) => ({ inst, line }))).sort((x, y) => x.line.seq! - y.line.seq!);
    const n0 = ivStarts().length;
    const deadline = Date.now() + 6_000;
    while (ivStarts().length <= n0 && Date.now() < deadline) await sleep(10);
    const victimStart = ivStarts().at(-1) ?? { inst: firstIv, line: firstIv.lines.find((l) => l.event === 'run-started' && l.job === 'iv')! };
    const victim = victimStart.inst;
    await sleep(300);
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    const vr = await victim.done;
    assert.equal(vr.signal, 'SIGKILL');

    await sleep(7_000);
    const survivors = fleet.filter((i) => i !== victim);
    for (const s of survivors) s.child.kill('SIGTERM');
    const results = await Promise.all(survivors.map((s) => s.done));
    for (const [i, r] of results.entries()) assert.equal(r.code, 0, `${survivors[i]!.id} exit ${r.code}/${r.signal}\n${r.stderr}`);
    await sleep(1_000); // the victim's orphaned exec child (its own process group) may still be writing

    const runs = await readRuns(out);
    const dump = runs.map((r) => `${r.job} ${r.occurrence} ${r.instance} ${r.start} ${r.end} fence=${r.fence}`).join('\n');

    // 1. No occurrence ran twice (cron and rate ids are nominal times, computed alike everywhere).
    const seen = new Set<string>();
    for (const r of runs.filter((x) => x.job !== 'iv')) {
      const k = `${r.job} ${r.occurrence}`;
      assert.ok(!seen.has(k), `ran twice: ${k}\n${dump}`);
      seen.add(k);
    }
    // ...and none was lost, except possibly one the victim had claimed when it was killed.
    for (const job of ['tick', 'rate']) {
      const ids = runs.filter((r) => r.job === job).map((r) => Date.parse(r.occurrence)).sort((a, b) => a - b);
      assert.ok(ids.length >= 6, `${job} ran ${ids.length} times\n${dump}`);
      for (let i = 1; i < ids.length; i++) {
        const gap = ids[i]! - ids[i - 1]!;
        const nearKill = Math.abs(ids[i]! - killedAt) < 2_000;
        assert.ok(gap === 1_000 || (nearKill && gap === 2_000), `${job}: occurrences lost between ${new Date(ids[i - 1]!).toISOString()} and ${new Date(ids[i]!).toISOString()}\n${dump}`);
      }
    }
    // Fences are unique per job.
    for (const job of ['tick', 'rate', 'iv']) {
      const fences = runs.filter((r) => r.job === job).map((r) => r.fence);
      assert.equal(new Set(fences).size, fences.length, `${job}: fence reused\n${dump}`);
    }

    // 2. Interval runs never overlapped, fleet-wide, and each waited the interval after the previous end.
    const iv = runs.filter((r) => r.job === 'iv').sort((a, b) => a.start - b.start);
    for (let i = 1; i < iv.length; i++) {
      assert.ok(iv[i]!.start >= iv[i - 1]!.end, `interval runs overlap:\n${dump}`);
      assert.ok(iv[i]!.fence > iv[i - 1]!.fence, `fences follow the runs:\n${dump}`);
    }

    // 3. Takeover: the victim's run died with it (its exec child is killed by the watchdog, so it
    //    never wrote its line) and never released its lock; a survivor's run follows once the lock
    //    expired: no earlier than the TTL after the run started (~300 ms before the kill), and not
    //    much later than TTL + interval.
    assert.ok(!iv.some((r) => r.instance === victim.id && r.end >= killedAt), `the victim's command outlived it\n${dump}`);
    const next = iv.find((r) => r.start > killedAt);
    assert.ok(next, `nobody took over after the kill\n${dump}`);
    assert.notEqual(next.instance, victim.id);
    const takeover = next.start - killedAt;
    assert.ok(takeover >= LOCK_TTL - 400, `took over ${takeover} ms after the kill, before the lock TTL\n${dump}`);
    assert.ok(takeover <= LOCK_TTL + INTERVAL + 1_000, `took over only after ${takeover} ms (TTL ${LOCK_TTL} + interval ${INTERVAL})\n${dump}`);
    assert.ok(iv.filter((r) => r.start > next.start).length >= 1, `interval runs went on after the takeover\n${dump}`);

    // 4. The survivors logged nothing at error level and released every lock they held; only the
    //    victim's locks may be left (until their TTL runs out: nobody can release them).
    for (const s of survivors) {
      const errors = s.lines.filter((l) => l.level === 'error' || l.level === 'fatal');
      assert.deepEqual(errors, [], `${s.id} logged errors`);
    }
    for (const job of ['tick', 'rate', 'iv']) {
      const holders = Object.values(await admin.hGetAll(jobKeys(prefix, job).holders)).map((h) => (JSON.parse(h) as { instance: string }).instance);
      assert.deepEqual(holders.filter((h) => h !== victim.id), [], `${job}: a survivor left its lock`);
    }
  });
});

describe('shutdown', () => {
  test('SIGTERM during a long exec job waits for it, releases its lock, exits 0', async () => {
    const prefix = uniquePrefix();
    const out = path.join(dir, 'drain.log');
    const config = await writeConfig('drain.conf', prefix, out, [`@every 1h  interval  exec  name=long lock-ttl=3s ${recordCommand(2)}`], ['SHUTDOWN_TIMEOUT=20s']);
    const inst = startInstance('drainer', config);
    started.push(inst);
    await inst.waitFor((l) => l.event === 'run-started' && l.job === 'long', 15_000, 'run-started');
    const k = jobKeys(prefix, 'long');
    assert.equal(await admin.zCard(k.running), 1);
    const t0 = Date.now();
    inst.child.kill('SIGTERM');
    // While it drains, the lock is still held (and renewed past its 3 s TTL would it be needed).
    await inst.waitFor((l) => l.event === 'shutdown', 2_000, 'shutdown line');
    assert.equal(await admin.zCard(k.running), 1, 'the lock is held while the job drains');
    const r = await inst.done;
    const waited = Date.now() - t0;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(waited >= 1_000, `exited after ${waited} ms: did not wait for the job`);
    const finished = inst.lines.find((l) => l.event === 'run-finished' && l.job === 'long');
    assert.equal(finished?.outcome, 'ok');
    const shutdownLine = inst.lines.find((l) => l.event === 'shutdown')!;
    assert.equal(shutdownLine.running, 1);
    assert.ok(inst.lines.findIndex((l) => l.event === 'run-finished') < inst.lines.findIndex((l) => l.event === 'stopped'), 'nothing closed under the running job');
    const runs = await readRuns(out);
    assert.equal(runs.length, 1, 'the job completed');
    assert.equal(await admin.zCard(k.running), 0, 'the running lock was released');
    assert.equal(await admin.hLen(k.holders), 0);
    // An interval run's end was recorded (the next generation's due time).
    assert.ok(Number(await admin.hGet(k.state, 'endedAt')) >= runs[0]!.end - 50);
  });

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    test(`a second ${sig} forces exit ${sig === 'SIGTERM' ? 143 : 130} at once and leaves no exec process behind`, async () => {
      const prefix = uniquePrefix();
      const pids = path.join(dir, `pids-${sig}`);
      // Background and foreground sleeps in the job's process group; the shell records their pids.
      const cmd = `command='sleep 100 & echo $! >> ${pids}; sleep 100 & echo $! >> ${pids}; echo $$ >> ${pids}; wait'`;
      const config = await writeConfig(`force-${sig}.conf`, prefix, path.join(dir, 'unused.log'), [`@every 1h  interval  exec  name=stuck lock-ttl=3s ${cmd}`], ['SHUTDOWN_TIMEOUT=1m']);
      const inst = startInstance(`forced-${sig}`, config);
      started.push(inst);
      await inst.waitFor((l) => l.event === 'run-started' && l.job === 'stuck', 15_000, 'run-started');
      let recorded: number[] = [];
      for (let i = 0; i < 100 && recorded.length < 3; i++) {
        await sleep(20);
        recorded = (await readFile(pids, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
      }
      assert.equal(recorded.length, 3, 'the command recorded its pids');
      const pgid = recorded[2]!;
      for (const pid of recorded) assert.ok(alive(pid));

      inst.child.kill(sig);
      await inst.waitFor((l) => l.event === 'shutdown', 2_000, 'shutdown line');
      await sleep(300);
      assert.equal(inst.child.exitCode, null, 'the first signal waits for the job');
      const t0 = Date.now();
      inst.child.kill(sig);
      const r = await inst.done;
      const took = Date.now() - t0;
      assert.equal(r.code, sig === 'SIGTERM' ? 143 : 130, r.stderr);
      assert.ok(took < 3_000, `forced exit took ${took} ms`);
      const finished = inst.lines.find((l) => l.event === 'run-finished' && l.job === 'stuck');
      assert.equal(finished?.outcome, 'aborted');
      // No orphans: every process of the job's group is gone.
      assert.deepEqual(await survivors(recorded), [], 'processes of the job survived');
      assert.deepEqual(await groupLeft(pgid), [], 'no live process is left in the job\'s process group');
      assert.equal(await admin.zCard(jobKeys(prefix, 'stuck').running), 0, 'the lock was released');
    });
  }

  test('a forced exit also kills an exec job that ignores SIGTERM (no orphans after kill-grace is cut short)', async () => {
    const prefix = uniquePrefix();
    const pids = path.join(dir, 'pids-trap');
    const cmd = `command='trap "" TERM; sleep 100 & echo $! >> ${pids}; echo $$ >> ${pids}; wait'`;
    const config = await writeConfig('force-trap.conf', prefix, path.join(dir, 'unused.log'), [`@every 1h  interval  exec  name=stubborn lock-ttl=3s ${cmd}`], ['SHUTDOWN_TIMEOUT=1m']);
    const inst = startInstance('forced-trap', config);
    started.push(inst);
    await inst.waitFor((l) => l.event === 'run-started' && l.job === 'stubborn', 15_000, 'run-started');
    let recorded: number[] = [];
    for (let i = 0; i < 100 && recorded.length < 2; i++) {
      await sleep(20);
      recorded = (await readFile(pids, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
    }
    assert.equal(recorded.length, 2);
    inst.child.kill('SIGTERM');
    await inst.waitFor((l) => l.event === 'shutdown', 2_000, 'shutdown line');
    inst.child.kill('SIGTERM');
    const r = await inst.done;
    assert.equal(r.code, 143, r.stderr);
    const left = await survivors(recorded);
    for (const pid of left) process.kill(pid, 'SIGKILL'); // don't leave them behind if the assertion fails
    assert.deepEqual(left, [], 'processes ignoring SIGTERM survived the forced exit');
  });
});
