/**
 * The exec watcher: its environment, output streamed into the logs, exit status, and aborts that
 * kill the command's whole process group. Direct runs of the watcher with a hand-made context,
 * plus `iamwatch once` (in-process store, no Redis) for the path through the scheduler's wrappers.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isIamwatchError } from '../../src/base/errors.js';
import { formatDiagnostic, hasErrors } from '../../src/jobsfile/job.js';
import { parseJobsFile } from '../../src/jobsfile/parse.js';
import type { Logger } from '../../src/base/logger.js';
import { RunAborted } from '../../src/scheduler/run-wrappers.js';
import type { RunResult, WatcherContext } from '../../src/watchers/define-watcher.js';
import { exec } from '../../src/watchers/exec.js';
import { WatcherRegistry } from '../../src/watchers/registry.js';
import { runCli, startCli } from '../helpers/cli.js';
import { sleep } from '../helpers/redis.js';

interface Logged {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  msg: string | undefined;
}

function recordingLogger(into: Logged[], bindings: Record<string, unknown> = {}): Logger {
  const at =
    (level: Logged['level']) =>
    (a: Record<string, unknown> | string, msg?: string): void => {
      if (typeof a === 'string') into.push({ level, fields: { ...bindings }, msg: a });
      else into.push({ level, fields: { ...bindings, ...a }, msg });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (b) => recordingLogger(into, { ...bindings, ...b }) };
}

/** The job's validated options and variables, straight from a jobs-file line. */
function jobFrom(text: string): { options: Record<string, unknown>; env: Record<string, string>; name: string } {
  const jf = parseJobsFile({ text, file: 'exec.conf', env: {}, watchers: new WatcherRegistry(), now: Date.now() });
  assert.ok(!hasErrors(jf.diagnostics), jf.diagnostics.map(formatDiagnostic).join('\n'));
  const job = jf.jobs[0]!;
  return { options: job.options, env: job.env, name: job.name };
}

function context(text: string, over: Partial<WatcherContext> & { logs?: Logged[] } = {}): WatcherContext {
  const job = jobFrom(text);
  const logs = over.logs ?? [];
  return {
    job: job.name,
    options: job.options,
    get db(): never {
      throw new Error('no db');
    },
    log: recordingLogger(logs, { job: job.name }),
    signal: new AbortController().signal,
    occurrence: new Date('2026-03-04T05:06:07.000Z'),
    fence: 42,
    attempt: 1,
    instance: 'exec-test-1',
    dryRun: false,
    env: job.env,
    ...over,
  };
}

const runExec = (ctx: WatcherContext): Promise<RunResult | void> => exec.run(ctx as never);

/** Live (non-zombie) members of a process group, from /proc. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

async function waitGroupGone(pgid: number, ms = 2_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = groupMembers(pgid);
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(25);
  }
}

async function waitForFile(file: string, lines: number, ms = 3_000): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    if (got.length >= lines || Date.now() > deadline) return got;
    await sleep(20);
  }
}

let dir: string;
const pgids: number[] = [];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iwtest-exec-'));
});

after(async () => {
  // Never leave a test's processes behind, whatever failed.
  for (const g of pgids) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await rm(dir, { recursive: true, force: true });
});

describe('exec watcher', () => {
  test('environment: IAMWATCH_* and the jobs-file variables in effect at the line, plus the process environment', async () => {
    const file = path.join(dir, 'env.txt');
    const ctx = context(['GREETING=hello world', 'EMPTY=', `* * * * *  cron  exec  name=envjob command='env > ${file}'`].join('\n'), { attempt: 3 });
    const result = await runExec(ctx);
    assert.match(String((result as RunResult).summary), /^exit 0 \(pid \d+\)$/);
    const env = Object.fromEntries(
      (await readFile(file, 'utf8'))
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    assert.equal(env.IAMWATCH_JOB, 'envjob');
    assert.equal(env.IAMWATCH_OCCURRENCE, '2026-03-04T05:06:07.000Z');
    assert.match(env.IAMWATCH_OCCURRENCE!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'ISO-8601');
    assert.equal(env.IAMWATCH_INSTANCE, 'exec-test-1');
    assert.equal(env.IAMWATCH_FENCE, '42');
    assert.equal(env.IAMWATCH_ATTEMPT, '3');
    assert.equal(env.GREETING, 'hello world');
    assert.equal(env.EMPTY, '');
    assert.equal(env.PATH, process.env.PATH, 'the process environment is inherited');
  });

  test('stdout and stderr lines are streamed into the logs (info / warn), tagged with the job', async () => {
    const logs: Logged[] = [];
    const ctx = context(`* * * * *  cron  exec  name=chatty command='echo one; echo two >&2; printf "no newline"'`, { logs });
    await runExec(ctx);
    const lines = logs.filter((l) => l.fields.stream);
    assert.deepEqual(
      lines.map((l) => ({ level: l.level, stream: l.fields.stream, msg: l.msg, job: l.fields.job })).sort((a, b) => String(a.msg).localeCompare(String(b.msg))),
      [
        { level: 'info', stream: 'stdout', msg: 'no newline', job: 'chatty' },
        { level: 'info', stream: 'stdout', msg: 'one', job: 'chatty' },
        { level: 'warn', stream: 'stderr', msg: 'two', job: 'chatty' },
      ],
    );
  });

  test('a non-zero exit is a failure (RUN_FAILED with the status); exit 0 is success', async () => {
    await assert.rejects(runExec(context(`* * * * *  cron  exec  name=bad command='exit 3'`)), (err: unknown) => {
      assert.ok(isIamwatchError(err));
      assert.equal(err.code, 'RUN_FAILED');
      assert.match(err.message, /exited with status 3/);
      return true;
    });
    await assert.rejects(runExec(context(`* * * * *  cron  exec  name=killed command='kill -9 $$'`)), /killed by SIGKILL/);
    assert.ok(await runExec(context(`* * * * *  cron  exec  name=good command=true`)));
  });

  test('dry run: nothing is executed', async () => {
    const file = path.join(dir, 'dry.txt');
    const result = await runExec(context(`* * * * *  cron  exec  name=dry command='touch ${file}'`, { dryRun: true }));
    assert.equal((result as RunResult).dryRun, true);
    await assert.rejects(readFile(file));
  });

  test("abort kills the whole process group: sh -c 'sleep 100 & sleep 100' leaves no survivors", async () => {
    const pidFile = path.join(dir, 'group.pid');
    const controller = new AbortController();
    const ctx = context(`* * * * *  cron  exec  name=group command='echo $$ > ${pidFile}; sh -c "sleep 100 & sleep 100"'`, { signal: controller.signal });
    const running = runExec(ctx);
    const [pgidText] = await waitForFile(pidFile, 1);
    const pgid = Number(pgidText);
    pgids.push(pgid);
    const deadline = Date.now() + 2_000;
    while (groupMembers(pgid).length < 5 && Date.now() < deadline) await sleep(20);
    assert.equal(groupMembers(pgid).length, 5, 'sh, sh, sleep, sleep and the watchdog in one group');
    const t0 = Date.now();
    controller.abort(new RunAborted('timeout', 'timed out after 1 ms'));
    await assert.rejects(running, (err: unknown) => err instanceof RunAborted && err.kind === 'timeout');
    assert.ok(Date.now() - t0 < 2_000, 'SIGTERM was enough: no wait for kill-grace');
    assert.deepEqual(await waitGroupGone(pgid), [], 'no process of the group survived');
  });

  test('abort of a command that ignores SIGTERM: SIGKILL after kill-grace', async () => {
    const pidFile = path.join(dir, 'stubborn.pid');
    const controller = new AbortController();
    const ctx = context(`* * * * *  cron  exec  name=stubborn kill-grace=300ms command='trap "" TERM; echo $$ > ${pidFile}; sleep 100 & wait; wait'`, { signal: controller.signal });
    const running = runExec(ctx);
    const pgid = Number((await waitForFile(pidFile, 1))[0]);
    pgids.push(pgid);
    await sleep(100);
    const t0 = Date.now();
    controller.abort(new RunAborted('lock-lost', 'lost the running lock'));
    await assert.rejects(running, (err: unknown) => err instanceof RunAborted && err.kind === 'lock-lost');
    const took = Date.now() - t0;
    assert.ok(took >= 250 && took < 2_000, `ended ${took} ms after the abort (kill-grace 300 ms)`);
    assert.deepEqual(await waitGroupGone(pgid), []);
  });

  test('SIGKILL of iamwatch itself: the watchdog kills the command, even one that ignores SIGTERM', async () => {
    const pidFile = path.join(dir, 'orphan.pid');
    const conf = path.join(dir, 'orphan.conf');
    writeFileSync(conf, `@every 1h interval exec name=orphan command='trap "" TERM; echo $$ > ${pidFile}; sleep 100 & wait'\n`);
    const { child, done } = startCli(['once', 'orphan', '-c', conf]);
    const pgid = Number((await waitForFile(pidFile, 1))[0]);
    pgids.push(pgid);
    assert.ok(groupMembers(pgid).length >= 2);
    child.kill('SIGKILL');
    await done;
    assert.deepEqual(await waitGroupGone(pgid), [], 'the command outlived iamwatch');
  });

  test('an already-aborted signal: the command never starts', async () => {
    const file = path.join(dir, 'never.txt');
    const controller = new AbortController();
    controller.abort(new RunAborted('shutdown', 'aborted by shutdown'));
    await assert.rejects(runExec(context(`* * * * *  cron  exec  name=never command='touch ${file}'`, { signal: controller.signal })), RunAborted);
    await assert.rejects(readFile(file));
  });
});

describe('exec through `iamwatch once` (no REDIS_URL: in-process store)', () => {
  test('retries run with IAMWATCH_ATTEMPT 1 then 2, the same fence, and the job-file variables; output logged with the job name', async () => {
    const out = path.join(dir, 'once-env.txt');
    const config = path.join(dir, 'once.conf');
    await writeFile(
      config,
      [
        'TARGET=the-target',
        `@every 1h  interval  exec  name=flaky retries=1 retry-delay=100ms command='echo "$IAMWATCH_ATTEMPT $IAMWATCH_FENCE $IAMWATCH_JOB $IAMWATCH_INSTANCE $IAMWATCH_OCCURRENCE $TARGET" >> ${out}; echo attempt $IAMWATCH_ATTEMPT; [ "$IAMWATCH_ATTEMPT" = 2 ]'`,
        '',
      ].join('\n'),
    );
    const r = await runCli(['once', 'flaky', '-c', config, '--json', '--log-format', 'json', '--instance-id', 'once-exec']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { attempts: number; fence: number; outcome: string; occurrence: string };
    assert.equal(report.outcome, 'ok');
    assert.equal(report.attempts, 2);
    const lines = (await readFile(out, 'utf8')).split('\n').filter(Boolean).map((l) => l.split(' '));
    assert.deepEqual(lines.map((l) => l[0]), ['1', '2']);
    for (const l of lines) {
      assert.equal(l[1], String(report.fence));
      assert.equal(l[2], 'flaky');
      assert.equal(l[3], 'once-exec');
      assert.equal(l[4], report.occurrence);
      assert.equal(l[5], 'the-target');
    }
    const logs = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const streamed = logs.filter((l) => l.stream === 'stdout');
    assert.deepEqual(streamed.map((l) => [l.msg, l.job, l.attempt]), [['attempt 1', 'flaky', 1], ['attempt 2', 'flaky', 2]]);
    assert.ok(logs.some((l) => l.event === 'run-retry' && l.level === 'warn'));
  });
});
