/**
 * `iamwatch validate` and `iamwatch next`, spawned as real processes (bin/iamwatch.js -> dist).
 * Jobs files are written to a temporary directory per test run.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, runCli, type CliResult } from '../helpers/cli.js';

let dir: string;
const file = (name: string): string => path.join(dir, name);

const VALID = [
  '# two jobs in two zones, one interval job',
  'CRON_TZ=UTC',
  '0 12 * * *        cron      clean        name=noon-utc',
  '0 12 * * *        cron      task         name=noon-ny tz=America/New_York',
  '@every 1h         interval  cleansecret',
  '',
].join('\n');

const WITH_WARNING = '* * * * * * cron clean\n';

const INVALID = [
  '0 61 * * * cron clean', // 1:3
  '@every 1d cron task', // 2:1
  '0 0 * * * cron nope', // 3:16
  '  0 0 30 2 * cron exec command=x', // 4:3
  '@hourly cron clean name=ok',
  '',
].join('\n');

const ISO_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?[+-]\d{2}:\d{2}$/;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[/;
const STACK = /^\s+at .+\(.*:\d+:\d+\)$|^\s+at file:/m;

function noStack(r: CliResult): void {
  assert.doesNotMatch(r.stderr, STACK, `no stack trace expected:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error/);
}

interface NextJson {
  job: string | null;
  watcher: string | null;
  mode: string | null;
  schedule: string;
  tz: string;
  next: string[];
  note: string | null;
}

function parseNext(r: CliResult): NextJson[] {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as NextJson[];
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iamwatch-cli-'));
  await writeFile(file('valid.conf'), VALID);
  await writeFile(file('warning.conf'), WITH_WARNING);
  await writeFile(file('invalid.conf'), INVALID);
  await writeFile(file('watchers.conf'), '@daily cron clean name=from-cwd\n');
  await writeFile(file('env.conf'), '@daily cron clean name=from-env\n');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('iamwatch validate', () => {
  test('a valid file: exit 0 and a one-line summary on stdout', async () => {
    const r = await runCli(['validate', '-c', file('valid.conf')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${file('valid.conf')}: OK, 3 jobs\n`);
    assert.equal(r.stderr, '');
  });

  test('an invalid file: every problem as FILE:LINE:COL: error: ..., exit 1', async () => {
    const f = file('invalid.conf');
    const r = await runCli(['validate', '-c', f]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 4).map((l) => l.slice(0, l.indexOf(' error: ') + 7)), [`${f}:1:3: error:`, `${f}:2:1: error:`, `${f}:3:16: error:`, `${f}:4:3: error:`]);
    assert.match(lines[0]!, /: error: invalid hour field "61": 61 is out of range \(0-23\)$/);
    assert.match(lines[1]!, /: error: @every goes with mode rate .* or interval .*, not cron$/);
    assert.match(lines[2]!, /: error: unknown watcher "nope" \(known: clean, cleansecret, exec, task\)$/);
    assert.match(lines[3]!, /: error: "0 0 30 2 \*" never fires/);
    assert.equal(lines[4], `${f}: 4 errors`);
    assert.equal(lines.length, 5);
    noStack(r);
  });

  test('warnings are printed but do not fail', async () => {
    const f = file('warning.conf');
    const r = await runCli(['validate', '-c', f]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:1: warning: fires every second`));
    assert.equal(r.stdout, `${f}: OK, 1 job, 1 warning\n`);
  });

  test('--json: the whole report', async () => {
    const r = await runCli(['validate', '--json', '-c', file('valid.conf')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      file: file('valid.conf'),
      valid: true,
      jobs: [
        { job: 'noon-utc', watcher: 'clean', mode: 'cron', schedule: '0 12 * * *', tz: 'UTC', line: 3 },
        { job: 'noon-ny', watcher: 'task', mode: 'cron', schedule: '0 12 * * *', tz: 'America/New_York', line: 4 },
        { job: 'cleansecret', watcher: 'cleansecret', mode: 'interval', schedule: '@every 1h', tz: 'UTC', line: 5 },
      ],
      errors: 0,
      warnings: 0,
      diagnostics: [],
    });
  });

  test('--json for an invalid file: exit 1, diagnostics in the report', async () => {
    const r = await runCli(['validate', '--json', '-c', file('invalid.conf')]);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as { valid: boolean; errors: number; warnings: number; jobs: unknown[]; diagnostics: Array<{ file: string; line: number; col: number; severity: string; message: string }> };
    assert.equal(report.valid, false);
    assert.equal(report.errors, 4);
    assert.equal(report.jobs.length, 1);
    assert.deepEqual(report.diagnostics.map((d) => [d.file, d.line, d.col, d.severity]), [1, 2, 3, 4].map((line, i) => [file('invalid.conf'), line, [3, 1, 16, 3][i], 'error']));
    noStack(r);
  });

  test('a missing file: exit 1, a message, no stack', async () => {
    const f = file('nope.conf');
    const r = await runCli(['validate', '-c', f]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `iamwatch: cannot read jobs file ${f}: no such file (pass -c FILE or set IAMWATCH_CONFIG)\n`);
    noStack(r);
  });

  test('a directory instead of a file: exit 1', async () => {
    const r = await runCli(['validate', '-c', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is a directory/);
    noStack(r);
  });

  test('-c defaults to ./watchers.conf', async () => {
    const r = await runCli(['validate', '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { file: string; jobs: Array<{ job: string }> };
    assert.equal(report.file, './watchers.conf');
    assert.deepEqual(report.jobs.map((j) => j.job), ['from-cwd']);
  });

  test('... or $IAMWATCH_CONFIG; -c wins over both', async () => {
    const env = { IAMWATCH_CONFIG: file('env.conf') };
    const fromEnv = JSON.parse((await runCli(['validate', '--json'], { cwd: dir, env })).stdout) as { jobs: Array<{ job: string }> };
    assert.deepEqual(fromEnv.jobs.map((j) => j.job), ['from-env']);
    const fromFlag = JSON.parse((await runCli(['validate', '--json', '-c', file('valid.conf')], { cwd: dir, env })).stdout) as { jobs: unknown[] };
    assert.equal(fromFlag.jobs.length, 3);
  });

  test('no ./watchers.conf and no $IAMWATCH_CONFIG: exit 1 naming ./watchers.conf', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'iamwatch-empty-'));
    try {
      const r = await runCli(['validate'], { cwd: empty });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /cannot read jobs file \.\/watchers\.conf: no such file/);
      noStack(r);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  test('watchers.conf.example validates with exit 0', async () => {
    const r = await runCli(['validate', '-c', 'watchers.conf.example'], { cwd: ROOT });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^watchers\.conf\.example: OK, \d+ jobs/);
    assert.doesNotMatch(r.stderr, /error:/);
  });
});

describe('iamwatch next', () => {
  test('--json shape: exactly {job, watcher, mode, schedule, tz, next, note} (note null but for interval)', async () => {
    const from = '2021-06-01T00:00:00Z';
    const entries = parseNext(await runCli(['next', '--json', '-c', file('valid.conf'), '--from', from]));
    assert.equal(entries.length, 3);
    for (const e of entries) {
      assert.deepEqual(Object.keys(e).sort(), ['job', 'mode', 'next', 'note', 'schedule', 'tz', 'watcher']);
      if (e.mode === 'interval') assert.match(e.note!, /previous run ends/);
      else assert.equal(e.note, null);
      assert.equal(e.next.length, 5, 'default count');
      let prev = Date.parse(from);
      for (const iso of e.next) {
        assert.match(iso, ISO_OFFSET);
        assert.ok(Date.parse(iso) > prev, `${iso} is after the previous one and after --from`);
        prev = Date.parse(iso);
      }
    }
    assert.deepEqual(entries.map((e) => [e.job, e.watcher, e.mode, e.schedule, e.tz]), [
      ['noon-utc', 'clean', 'cron', '0 12 * * *', 'UTC'],
      ['noon-ny', 'task', 'cron', '0 12 * * *', 'America/New_York'],
      ['cleansecret', 'cleansecret', 'interval', '@every 1h', 'UTC'],
    ]);
    assert.deepEqual(entries[2]!.next, ['01', '02', '03', '04', '05'].map((h) => `2021-06-01T${h}:00:00+00:00`));
  });

  test('--from with Z or an offset is one instant for every job', async () => {
    for (const from of ['2021-06-01T12:00:00Z', '2021-06-01T08:00-04:00', '2021-06-01T21:30+09:30']) {
      const entries = parseNext(await runCli(['next', '--json', '-n', '1', '-c', file('valid.conf'), '--from', from, 'noon-utc', 'noon-ny']));
      assert.deepEqual(entries.map((e) => e.next), [['2021-06-02T12:00:00+00:00'], ['2021-06-01T12:00:00-04:00']], from);
    }
  });

  test('--from without an offset is wall time in each job\'s zone', async () => {
    const entries = parseNext(await runCli(['next', '--json', '-n', '2', '-c', file('valid.conf'), '--from', '2021-06-01T12:00', 'noon-utc', 'noon-ny']));
    assert.deepEqual(entries.map((e) => e.next), [
      ['2021-06-02T12:00:00+00:00', '2021-06-03T12:00:00+00:00'],
      ['2021-06-02T12:00:00-04:00', '2021-06-03T12:00:00-04:00'],
    ]);
  });

  test('job names filter and order the output', async () => {
    const entries = parseNext(await runCli(['next', '--json', '-c', file('valid.conf'), 'cleansecret', 'noon-utc']));
    assert.deepEqual(entries.map((e) => e.job), ['cleansecret', 'noon-utc']);
  });

  test('an unknown job: exit 2 listing the jobs', async () => {
    const r = await runCli(['next', '-c', file('valid.conf'), 'noon-utc', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown job nope \(jobs in .*valid\.conf: noon-utc, noon-ny, cleansecret\)/);
    assert.equal(r.stdout, '');
    noStack(r);
  });

  test('--count / -n', async () => {
    for (const args of [['--count', '3'], ['-n', '3'], ['--count=3']]) {
      const entries = parseNext(await runCli(['next', '--json', '-c', file('valid.conf'), ...args]));
      assert.deepEqual(entries.map((e) => e.next.length), [3, 3, 3], args.join(' '));
    }
  });

  test('the human table', async () => {
    const r = await runCli(['next', '-c', file('valid.conf'), '-n', '2', '--from', '2021-06-01T00:00Z']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, ANSI);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^JOB\s+WATCHER\s+MODE\s+SCHEDULE\s+TZ\s+NEXT$/);
    assert.match(lines[1]!, /^noon-utc\s+clean\s+cron\s+0 12 \* \* \*\s+UTC\s+2021-06-01T12:00:00\+00:00$/);
    assert.match(lines[2]!, /^\s+2021-06-02T12:00:00\+00:00$/);
    assert.match(lines[3]!, /^noon-ny\s+task\s+cron\s+0 12 \* \* \*\s+America\/New_York\s+2021-06-01T12:00:00-04:00$/);
    assert.match(lines[5]!, /^cleansecret\s+cleansecret\s+interval\s+@every 1h\s+UTC\s+2021-06-01T01:00:00\+00:00$/);
    assert.match(lines[7]!, /^\s+\(assuming the previous run ends/);
    assert.equal(lines.length, 8);
    // Columns line up: NEXT starts at the same column on every occurrence row.
    const col = lines[0]!.indexOf('NEXT');
    for (const l of lines.slice(1, 7)) assert.match(l.slice(col), /^\d{4}-/);
  });

  test('the human table without --from says how far away each occurrence is', async () => {
    const r = await runCli(['next', '--spec', '@hourly', '-n', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\+00:00 {2}in \d+[dhms]( \d+[hms])?\n$/);
  });

  test('--spec with --tz: the issue\'s examples, job/watcher/mode null', async () => {
    const cases: Array<[args: string[], schedule: string, tz: string, next: string[]]> = [
      [['--spec', '0 0/15 * * * *', '--from', '2012-07-09T14:45:00Z', '-n', '3'], '0 0/15 * * * *', 'UTC', ['2012-07-09T15:00:00+00:00', '2012-07-09T15:15:00+00:00', '2012-07-09T15:30:00+00:00']],
      [['--spec', '30 2 * * *', '--tz', 'America/New_York', '--from', '2021-03-13T12:00-05:00', '-n', '2'], '30 2 * * *', 'America/New_York', ['2021-03-14T03:00:00-04:00', '2021-03-15T02:30:00-04:00']],
      [['--spec', '30 1 * * *', '--tz', 'America/New_York', '--from', '2021-11-07T00:00-04:00', '-n', '2'], '30 1 * * *', 'America/New_York', ['2021-11-07T01:30:00-04:00', '2021-11-08T01:30:00-05:00']],
      // Wall time in --tz.
      [['--spec', '30 1 * * *', '--tz', 'America/New_York', '--from', '2021-11-07T00:00', '-n', '2'], '30 1 * * *', 'America/New_York', ['2021-11-07T01:30:00-04:00', '2021-11-08T01:30:00-05:00']],
      [['--spec', '@midnight', '--tz', 'utc', '--from', '2021-01-01T00:00Z', '-n', '1'], '@midnight', 'UTC', ['2021-01-02T00:00:00+00:00']],
      [['--spec', '@every 90m', '--from', '2021-01-01T00:00Z', '-n', '2'], '@every 90m', 'UTC', ['2021-01-01T01:30:00+00:00', '2021-01-01T03:00:00+00:00']],
    ];
    for (const [args, schedule, tz, next] of cases) {
      const entries = parseNext(await runCli(['next', '--json', ...args]));
      assert.deepEqual(entries, [{ job: null, watcher: null, mode: null, schedule, tz, next, note: null }], args.join(' '));
    }
  });

  test('--spec needs no jobs file', async () => {
    const r = await runCli(['next', '--spec', '@daily', '--json'], { cwd: dir, env: { IAMWATCH_CONFIG: file('nope.conf') } });
    assert.equal(r.code, 0, r.stderr);
  });

  test('a bad --spec: exit 1, the message names the field and the token', async () => {
    const cases: Array<[spec: string, message: RegExp]> = [
      ['0 0 3x * *', /invalid day-of-month field "3x": "3x" is not a number/],
      ['0 24 * * *', /invalid hour field "24": 24 is out of range \(0-23\)/],
      ['0 0 * * MON-FOO', /invalid day-of-week field "MON-FOO": unknown name "FOO"/],
      ['*/0 * * * *', /invalid minute field "\*\/0"/],
      ['0 0 * *', /5 fields .* got 4/],
      ['0 0 30 2 *', /never fires/],
      ['@every 1y', /invalid duration "1y"/],
    ];
    for (const [spec, message] of cases) {
      const r = await runCli(['next', '--spec', spec]);
      assert.equal(r.code, 2, spec); // a bad flag value is a usage error
      assert.match(r.stderr, message);
      assert.ok(r.stderr.startsWith(`iamwatch: --spec "${spec}": `), r.stderr);
      assert.equal(r.stdout, '');
      noStack(r);
    }
  });

  test('an unknown --tz: a usage error like every bad flag value (exit 2)', async () => {
    const r = await runCli(['next', '--spec', '@daily', '--tz', 'Mars/Base']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown time zone "Mars\/Base"/);
    noStack(r);
  });

  test('an invalid jobs file: exit 1 with the diagnostics', async () => {
    const r = await runCli(['next', '-c', file('invalid.conf')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /invalid\.conf:1:3: error: /);
    assert.match(r.stderr, /iamwatch: .*invalid\.conf: 4 errors; nothing was started/);
    assert.equal(r.stdout, '');
    noStack(r);
  });

  test('usage errors: exit 2, a message, no stack', async () => {
    const cases: Array<[args: string[], message: RegExp]> = [
      [['next', '--bogus'], /unknown option '--bogus'/],
      [['next', '--count', 'x', '--spec', '@daily'], /--count must be a whole number from 1 to 10000/],
      [['next', '--count', '0', '--spec', '@daily'], /--count must be a whole number/],
      [['next', '--count', '10001', '--spec', '@daily'], /--count must be a whole number/],
      [['next', '--from', 'yesterday', '--spec', '@daily'], /--from: "yesterday" is not an ISO-8601 time/],
      [['next', '--from', '2021-02-30T00:00Z', '--spec', '@daily'], /is not an ISO-8601 time/],
      [['next', '--spec'], /argument missing|--spec <schedule>/],
      [['validate', '--bogus'], /unknown option '--bogus'/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
      noStack(r);
    }
  });

  // Usage errors thrown from a command's action (not from commander's own parsing).
  const actionUsage: Array<[args: string[], message: RegExp]> = [
    [['next', '--tz', 'UTC', '-c', 'x.conf'], /--tz goes with --spec/],
    [['next', '--spec', '@daily', 'somejob'], /either --spec or job names/],
  ];
  test('usage errors from an action: exit 2, no stack', async () => {
    for (const [args] of actionUsage) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      noStack(r);
    }
  });
  // main.ts reportError() tests `instanceof CommanderError` before `instanceof InvalidArgumentError`
  // (a subclass), assumes commander already printed the message, and prints nothing.
  test('usage errors from an action say what is wrong', async () => {
    for (const [args, message] of actionUsage) {
      const r = await runCli(args);
      assert.match(r.stderr, message, args.join(' '));
    }
  });

  test('--help and --version exit 0', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /validate/);
    assert.match(help.stdout, /next/);
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});

describe('colour', () => {
  test('NO_COLOR: no ANSI escapes anywhere, even with FORCE_COLOR', async () => {
    const env = { NO_COLOR: '1', FORCE_COLOR: '1' };
    for (const args of [['next', '-c', file('valid.conf')], ['validate', '-c', file('valid.conf')], ['validate', '-c', file('invalid.conf')], ['validate', '-c', file('warning.conf')], ['next', '--spec', 'bad']]) {
      const r = await runCli(args, { env });
      assert.doesNotMatch(r.stdout + r.stderr, ANSI, args.join(' '));
    }
  });

  test('FORCE_COLOR without NO_COLOR colours the output (so the test above means something)', async () => {
    const r = await runCli(['next', '-c', file('valid.conf')], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, ANSI);
  });

  test('piped output is not coloured by default', async () => {
    const r = await runCli(['next', '-c', file('valid.conf')], { env: { NO_COLOR: undefined } });
    assert.doesNotMatch(r.stdout + r.stderr, ANSI);
  });
});
