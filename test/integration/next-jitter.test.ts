/**
 * `iamwatch next` with `H` and `jitter=`, spawned as real processes: the times are the real,
 * jittered ones, and two runs of the same file print the same times whatever their working
 * directory, zone or environment, since every value comes from the job names alone.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jitteredStart } from '../../src/jobsfile/job.js';
import { parseJobsFile } from '../../src/jobsfile/parse.js';
import { formatInstant } from '../../src/schedule/iso.js';
import { cronSchedule, parseScheduleExpr, rateSchedule } from '../../src/schedule/schedule.js';
import { WatcherRegistry } from '../../src/watchers/registry.js';
import { runCli, type CliResult } from '../helpers/cli.js';

const FILE = [
  'H H * * *        cron      clean        name=nightly jitter=30m',
  '*/15 * * * *     cron      task         jitter=15m',
  'H/20 * * * *     cron      clean        name=sweep tz=Asia/Tokyo',
  '@every 1h        rate      cleansecret  jitter=20m',
  '@every 1h        interval  exec         name=poll command=true jitter=5m',
  '',
].join('\n');
const FROM = '2026-01-01T00:00:00Z';
const COUNT = 4;

interface NextJson {
  job: string | null;
  mode: string | null;
  tz: string;
  next: string[];
  note: string | null;
}

let dir: string;
let other: string;

function parseNext(r: CliResult): NextJson[] {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as NextJson[];
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iamwatch-next-jitter-'));
  other = await mkdtemp(path.join(tmpdir(), 'iamwatch-next-jitter-cwd-'));
  await writeFile(path.join(dir, 'jobs.conf'), FILE);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(other, { recursive: true, force: true });
});

/** What the library computes for the file: each occurrence after FROM plus its offset. */
function expected(): Map<string, string[]> {
  const jf = parseJobsFile({ text: FILE, file: 'jobs.conf', env: {}, watchers: new WatcherRegistry(), now: Date.parse(FROM) });
  assert.deepEqual(jf.diagnostics, []);
  const out = new Map<string, string[]>();
  for (const job of jf.jobs) {
    if (job.mode === 'interval') continue;
    const schedule = job.schedule.kind === 'cron' ? cronSchedule(job.schedule, job.tz) : rateSchedule(job.schedule);
    const times: string[] = [];
    for (let t = schedule.next(Date.parse(FROM) - job.jitterMs); t !== null && times.length < COUNT; t = schedule.next(t)) {
      const start = jitteredStart(job, t);
      if (start > Date.parse(FROM)) times.push(formatInstant(start, job.tz));
    }
    out.set(job.name, times);
  }
  return out;
}

describe('iamwatch next with H and jitter=', () => {
  test('two runs, from different directories and environments, print the same jittered times', async () => {
    const args = ['next', '-c', path.join(dir, 'jobs.conf'), '--from', FROM, '-n', String(COUNT), '--json'];
    const a = await runCli(args);
    const b = await runCli(args, { cwd: other, env: { TZ: 'Pacific/Chatham', LANG: 'de_DE.UTF-8', HOSTNAME: 'elsewhere', IAMWATCH_INSTANCE: 'b' } });
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.stdout, a.stdout, 'byte for byte the same');
    const entries = parseNext(a);
    const want = expected();
    for (const e of entries.filter((x) => x.mode !== 'interval')) assert.deepEqual(e.next, want.get(e.job!), e.job!);
  });

  test('the times are the jittered ones: not on the schedule\'s grid, each within its jitter after an occurrence', async () => {
    const entries = parseNext(await runCli(['next', '-c', path.join(dir, 'jobs.conf'), '--from', FROM, '-n', String(COUNT), '--json']));
    const byJob = new Map(entries.map((e) => [e.job, e]));
    const task = byJob.get('task')!;
    assert.equal(task.next.length, COUNT);
    // jitter=15m on */15: each start falls in its own quarter hour, one per occurrence, in order.
    const quarters = task.next.map((iso) => Math.floor(Date.parse(iso) / 900_000));
    assert.deepEqual(quarters, quarters.map((_, i) => quarters[0]! + i), task.next.join(' '));
    assert.ok(task.next.some((iso) => Date.parse(iso) % 900_000 !== 0), 'some start is off the quarter hours');
    assert.match(task.note ?? '', /^jitter=15m: each time is its occurrence plus an offset from the job name and the occurrence/);
    // Without jitter, an H schedule is a plain time; the note is only for jittered and interval jobs.
    const sweep = byJob.get('sweep')!;
    assert.equal(sweep.note, null);
    assert.ok(sweep.next.every((iso) => /:00\+09:00$/.test(iso)), sweep.next.join(' '));
    const poll = byJob.get('poll')!;
    assert.match(poll.note ?? '', /jitter=5m delays each start by up to that much more/);
  });

  test('--spec hashes H as for a job named "spec"', async () => {
    const [entry] = parseNext(await runCli(['next', '--spec', 'H H * * *', '--from', FROM, '-n', '2', '--json']));
    const expr = parseScheduleExpr('H H * * *', 'spec');
    assert.equal(expr.kind, 'cron');
    if (expr.kind !== 'cron') return;
    const schedule = cronSchedule(expr, 'UTC');
    const first = schedule.next(Date.parse(FROM))!;
    assert.deepEqual(entry!.next, [formatInstant(first, 'UTC'), formatInstant(schedule.next(first)!, 'UTC')]);
  });

  test('--tz with a misspelled zone suggests the right one (exit 2)', async () => {
    const r = await runCli(['next', '--spec', '@daily', '--tz', 'Europe/Londn']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--tz: unknown time zone "Europe\/Londn" \(expected an IANA name such as Europe\/London or UTC\); did you mean "Europe\/London"\?/);
  });
});
