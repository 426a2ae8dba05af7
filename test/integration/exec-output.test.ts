/**
 * exec output that would swamp a naive reader, through the real CLI (JSON logs): one 50 MB line,
 * a 100 KB hex line, 100k short lines, a last line without newline, \r\n. Each logged line holds
 * at most 16 KiB of text plus a note and `truncatedBytes`; nothing is silently lost. Event-loop
 * blocking is measured inside a `run` instance: an every-second job's start lateness while a
 * flood runs beside it. SIGTERM mid-flood drains and exits.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, cleanEnv, runCli } from '../helpers/cli.js';
import { sleep } from '../helpers/redis.js';

const CAP = 16 * 1024;
const note = (n: number): string => `… [${n.toLocaleString('en-US')} more bytes]`;

type Log = Record<string, unknown>;

let dir: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iwtest-exec-output-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `iamwatch once JOB` on a one-line jobs file; returns the JSON log lines from stderr and the wall time. */
async function once(name: string, line: string): Promise<{ logs: Log[]; ms: number; code: number | null; stdout: string }> {
  const conf = path.join(dir, `${name}.conf`);
  await writeFile(conf, `${line}\n`);
  const t0 = Date.now();
  const r = await runCli(['once', name, '-c', conf, '--json', '--log-format', 'json'], { cwd: dir, timeoutMs: 60_000 });
  const ms = Date.now() - t0;
  const logs = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Log);
  return { logs, ms, code: r.code, stdout: r.stdout };
}

const outputOf = (logs: Log[], stream = 'stdout'): Log[] => logs.filter((l) => l.stream === stream);

describe('exec output through `iamwatch once`', () => {
  test('one 50 MB line: done in seconds, logged as 16 KiB plus a note, the dropped bytes counted', async () => {
    const r = await once('huge', `@every 1h interval exec name=huge command='head -c 50000000 /dev/zero | tr "\\0" a; echo'`);
    assert.equal(r.code, 0, JSON.stringify(r.logs.filter((l) => !l.stream)));
    assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
    const [line, ...more] = outputOf(r.logs);
    assert.equal(more.length, 0, 'one line');
    const msg = String(line!.msg);
    assert.equal(line!.truncatedBytes, 50_000_000 - CAP);
    assert.ok(msg.endsWith(note(50_000_000 - CAP)), msg.slice(-60));
    assert.equal(msg.slice(0, -note(50_000_000 - CAP).length), 'a'.repeat(CAP));
    assert.equal(JSON.parse(r.stdout).outcome, 'ok');
  });

  const secretTail = ' mysql://app:Sup3rSecretPassw0rd@db/iam';
  test('a 100 KB hex line, and a password where the line is cut: hex kept up to the cap, no part of the password shown', async () => {
    const r = await once(
      'hex',
      `@every 1h interval exec name=hex command='od -An -v -tx1 /dev/urandom | tr -d " \\n" | head -c 100000; echo; printf "%16370s" | tr " " b; echo "${secretTail}"'`,
    );
    assert.equal(r.code, 0);
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
    const [hex, cut] = outputOf(r.logs);
    assert.equal(hex!.truncatedBytes, 100_000 - CAP);
    assert.match(String(hex!.msg), new RegExp(`^[0-9a-f]{${CAP}}… \\[83,616 more bytes\\]$`));
    // The cut falls on the password's first letter: the head shows the user, never that letter.
    const dropped = 16_370 + secretTail.length - CAP;
    assert.equal(cut!.truncatedBytes, dropped);
    assert.equal(cut!.msg, `${'b'.repeat(16_370)} mysql://app:***${note(dropped)}`);
    assert.ok(!JSON.stringify(r.logs).includes('Sup3'));
  });

  test('100k short lines all arrive, in order; a last line without newline and \\r\\n lines too', async () => {
    const r = await once('many', `@every 1h interval exec name=many command='printf "crlf on stderr\\r\\n" >&2; seq 1 100000; printf "the end, no newline"'`);
    assert.equal(r.code, 0);
    const lines = outputOf(r.logs).map((l) => l.msg);
    assert.equal(lines.length, 100_001);
    for (let i = 0; i < 100_000; i++) if (lines[i] !== String(i + 1)) assert.fail(`line ${i + 1} is ${String(lines[i])}`);
    assert.equal(lines[100_000], 'the end, no newline');
    assert.ok(outputOf(r.logs).every((l) => l.truncatedBytes === undefined));
    const err = outputOf(r.logs, 'stderr');
    assert.deepEqual(err.map((l) => [l.msg, l.level]), [['crlf on stderr', 'warn']]);
  });
});

/**
 * A CLI process whose (JSON) log lines go to a file, read as they come: lines of a job's output
 * are only counted, the others kept. A file, not a pipe, so what is measured is iamwatch itself,
 * not how fast this test drains a pipe (a full pipe makes any synchronous logger wait).
 */
function watch(args: string[], logsOn: 'stdout' | 'stderr', name: string): { child: ChildProcess; events: Log[]; outputLines: () => number; done: Promise<number | null> } {
  const file = path.join(dir, `${name}.log`);
  const fd = openSync(file, 'w');
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: cleanEnv(), stdio: ['ignore', logsOn === 'stdout' ? fd : 'ignore', logsOn === 'stderr' ? fd : 'ignore'] });
  closeSync(fd);
  const events: Log[] = [];
  let output = 0;
  let offset = 0;
  let partial = '';
  const reader = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  const poll = (): void => {
    for (;;) {
      const n = readSync(reader, buf, 0, buf.length, offset);
      if (n === 0) return;
      offset += n;
      const lines = (partial + buf.toString('utf8', 0, n)).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        if (l.includes('"stream":"stdout"')) output++;
        else if (l.startsWith('{')) events.push(JSON.parse(l) as Log);
      }
    }
  };
  const timer = setInterval(poll, 20);
  const done = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      clearInterval(timer);
      poll();
      closeSync(reader);
      resolve(code);
    }),
  );
  return { child, events, outputLines: () => output, done };
}

/** The promise's value, or 'timeout' after `ms` (the timer cleared either way). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitFor(what: string, ok: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('a flood of output inside `iamwatch run`', () => {
  const running: ChildProcess[] = [];
  after(() => {
    for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  test("an every-second job starts on time while another job's output floods; SIGTERM mid-flood drains and exits", async () => {
    const conf = path.join(dir, 'flood.conf');
    await writeFile(
      conf,
      [
        'SHUTDOWN_TIMEOUT=1s',
        '* * * * * *  cron  exec  name=tick command=true',
        // Bursts of short lines and 20 MB lines, for ever.
        `@every 1h  interval  exec  name=flood command='while :; do seq 1 50000; head -c 20000000 /dev/zero | tr "\\0" a; echo; sleep 0.1; done'`,
        '',
      ].join('\n'),
    );
    const w = watch(['run', '-c', conf, '--log-format', 'json'], 'stdout', 'flood-run');
    running.push(w.child);
    const tickStarts = (): Log[] => w.events.filter((e) => e.event === 'run-started' && e.job === 'tick');
    await waitFor('the flood', () => w.outputLines() > 1_000, 15_000);
    const before = tickStarts().length;
    await waitFor('four ticks during the flood', () => tickStarts().length >= before + 4, 15_000);
    const lateness = tickStarts()
      .slice(before)
      .map((e) => Number(e.latenessMs));
    const flooded = w.outputLines();
    assert.ok(flooded > 10_000, `${flooded} lines of output so far`);
    assert.ok(Math.max(...lateness) < 100, `tick started late by ${lateness.join(', ')} ms during the flood`);

    const t0 = Date.now();
    w.child.kill('SIGTERM');
    const code = await within(w.done, 15_000);
    const took = Date.now() - t0;
    assert.notEqual(code, 'timeout', 'iamwatch did not exit after SIGTERM');
    assert.ok(took < 8_000, `exited ${took} ms after SIGTERM (SHUTDOWN_TIMEOUT=1s)`);
    assert.ok(w.events.some((e) => e.event === 'shutdown'), 'the signal was handled');
    assert.ok(w.events.some((e) => e.event === 'stopped'), 'and the shutdown finished');
    const flood = w.events.find((e) => e.event === 'run-finished' && e.job === 'flood');
    assert.equal(flood?.outcome, 'aborted');
  });

  test('`iamwatch once` mid-flood: SIGTERM aborts the run and exits promptly', async () => {
    const conf = path.join(dir, 'once-flood.conf');
    await writeFile(conf, `@every 1h  interval  exec  name=gush command='while :; do seq 1 20000; head -c 5000000 /dev/zero | tr "\\0" a; echo; done'\n`);
    const w = watch(['once', 'gush', '-c', conf, '--log-format', 'json'], 'stderr', 'flood-once');
    running.push(w.child);
    await waitFor('the flood', () => w.outputLines() > 10_000, 15_000);
    const t0 = Date.now();
    w.child.kill('SIGTERM');
    const code = await within(w.done, 15_000);
    assert.notEqual(code, 'timeout', 'iamwatch did not exit after SIGTERM');
    assert.ok(Date.now() - t0 < 5_000, `exited ${Date.now() - t0} ms after SIGTERM`);
    assert.notEqual(code, 0, 'an interrupted run is not a success');
  });
});
