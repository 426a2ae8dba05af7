/**
 * The jobs-file parser, called directly with a fixed `now`, a fixed environment and the built-in
 * watchers: every error path with its exact line:col, every warning, variables, quoting, defaults.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDiagnostic, hasErrors, type JobsFile, type JobSpec } from '../../src/jobsfile/job.js';
import { checkDecls, coerceOption, type OptionDecl } from '../../src/jobsfile/options.js';
import { parseJobsFile } from '../../src/jobsfile/parse.js';
import { checkSetting, resolveSettings, SETTINGS, type SettingName } from '../../src/jobsfile/settings.js';
import { expandText, tokenizeLine } from '../../src/jobsfile/tokenize.js';
import { WatcherRegistry } from '../../src/watchers/registry.js';

/** 2026-01-01T00:00Z: the coming year has DST changes on 2026-03-08 (New York), 2026-03-29 (London), 2026-10-04 (Sydney). */
const NOW = Date.UTC(2026, 0, 1);
const ENV = { HOME: '/home/ops', EMPTY: '', DB_PASS: 's3cret', REDIS_URL: 'redis://env-redis:6379' };

function parse(text: string, env: Record<string, string | undefined> = ENV, now = NOW): JobsFile {
  return parseJobsFile({ text, file: 'jobs.conf', env, watchers: new WatcherRegistry(), now });
}

/** Diagnostics as `LINE:COL severity: message`. */
function diagnostics(text: string, env?: Record<string, string | undefined>): string[] {
  return parse(text, env).diagnostics.map((d) => `${d.line}:${d.col} ${d.severity}: ${d.message}`);
}

function onlyJob(text: string, env?: Record<string, string | undefined>): JobSpec {
  const jf = parse(text, env);
  assert.deepEqual(jf.diagnostics.filter((d) => d.severity === 'error'), [], 'no errors');
  assert.equal(jf.jobs.length, 1);
  return jf.jobs[0]!;
}

/** Asserts that `text` produces exactly these diagnostics: each an exact `L:C severity:` prefix and a message pattern. */
function expectDiagnostics(text: string, expected: Array<[where: string, message: RegExp | string]>, env?: Record<string, string | undefined>): void {
  const actual = diagnostics(text, env);
  assert.equal(actual.length, expected.length, `expected ${expected.length} diagnostics, got:\n${actual.join('\n')}`);
  expected.forEach(([where, message], i) => {
    const line = actual[i]!;
    assert.ok(line.startsWith(`${where}: `), `diagnostic ${i}: expected "${where}", got "${line}"`);
    const text = line.slice(where.length + 2);
    if (typeof message === 'string') assert.equal(text, message);
    else assert.match(text, message);
  });
}

describe('jobs file: valid lines and defaults', () => {
  test('a minimal line gets every default', () => {
    const job = onlyJob('0 3 * * * cron clean');
    assert.deepEqual({ ...job, schedule: job.schedule.source }, {
      name: 'clean',
      watcher: 'clean',
      mode: 'cron',
      schedule: '0 3 * * *',
      tz: 'UTC',
      timeoutMs: undefined,
      overlap: 'allow',
      misfire: 'skip',
      retries: 0,
      retryDelayMs: 1000,
      lockTtlMs: 30_000,
      jitterMs: 0,
      dryRun: false,
      enabled: true,
      notify: undefined,
      notifyOn: 'failure',
      ping: undefined,
      pingStyle: 'healthchecks',
      options: { 'max-reserve-days': 180, 'batch-size': 5000 },
      env: {},
      line: 1,
      col: 1,
    });
  });

  test('every common option', () => {
    const job = onlyJob('0 3 * * * cron clean name=purge tz=Europe/London timeout=30m overlap=skip misfire=once retries=3 retry-delay=10s lock-ttl=1m dry-run=yes notify=https://hooks.example/x notify-on=always max-reserve-days=90 batch-size=100');
    assert.equal(job.name, 'purge');
    assert.equal(job.tz, 'Europe/London');
    assert.equal(job.timeoutMs, 1_800_000);
    assert.equal(job.overlap, 'skip');
    assert.equal(job.misfire, 'once');
    assert.equal(job.retries, 3);
    assert.equal(job.retryDelayMs, 10_000);
    assert.equal(job.lockTtlMs, 60_000);
    assert.equal(job.dryRun, true);
    assert.equal(job.notify, 'https://hooks.example/x');
    assert.equal(job.notifyOn, 'always');
    assert.deepEqual(job.options, { 'max-reserve-days': 90, 'batch-size': 100 });
  });

  const schedules: Array<[line: string, mode: string, kind: 'cron' | 'every', source: string]> = [
    ['*/5 * * * * cron clean', 'cron', 'cron', '*/5 * * * *'],
    ['*/30 * * * * * cron clean', 'cron', 'cron', '*/30 * * * * *'],
    ['@daily cron clean', 'cron', 'cron', '@daily'],
    ['@midnight cron clean', 'cron', 'cron', '@midnight'],
    ['@every 1d interval clean', 'interval', 'every', '@every 1d'],
    ['@every 1h30m rate clean', 'rate', 'every', '@every 1h30m'],
    ['0 0 L * * cron clean', 'cron', 'cron', '0 0 L * *'],
    ['0 9 * * TUE#2 cron clean', 'cron', 'cron', '0 9 * * TUE#2'],
    ['0 0 ? * MON-SUN cron clean', 'cron', 'cron', '0 0 ? * MON-SUN'],
  ];
  for (const [line, mode, kind, source] of schedules) {
    test(line, () => {
      const job = onlyJob(line);
      assert.equal(job.mode, mode);
      assert.equal(job.schedule.kind, kind);
      assert.equal(job.schedule.source, source);
    });
  }

  test('blank lines, comments and indentation; line and col of each job', () => {
    const jf = parse('# header\n\n   \n\t# indented comment\n0 1 * * * cron clean\n   0 2 * * * cron task\n\t@hourly cron cleansecret\n');
    assert.deepEqual(jf.diagnostics, []);
    assert.deepEqual(jf.jobs.map((j) => [j.name, j.line, j.col]), [['clean', 5, 1], ['task', 6, 4], ['cleansecret', 7, 2]]);
  });

  test('watcher option defaults and values per watcher', () => {
    assert.deepEqual(onlyJob('@daily cron task').options, { 'max-inactive-days': 180, 'include-admins': false, 'disable-secrets': false, 'batch-size': 5000 });
    assert.deepEqual(onlyJob('@daily cron cleansecret grace-days=7').options, { 'grace-days': 7, 'batch-size': 5000 });
    assert.deepEqual(onlyJob('@daily cron exec command=true kill-grace=0s'.replace('0s', '1s')).options, { command: 'true', 'kill-grace': 1000 });
  });

  test('bool spellings', () => {
    for (const [text, value] of [['true', true], ['yes', true], ['on', true], ['1', true], ['TRUE', true], ['false', false], ['no', false], ['off', false], ['0', false]] as const) {
      assert.equal(onlyJob(`@daily cron clean dry-run=${text}`).dryRun, value, text);
    }
  });

  test('a file with no jobs is valid, with a warning', () => {
    const jf = parse('# nothing\n');
    assert.deepEqual(jf.jobs, []);
    assert.deepEqual(jf.diagnostics.map((d) => [d.line, d.col, d.severity]), [[1, 1, 'warning']]);
    assert.match(jf.diagnostics[0]!.message, /^no jobs/);
    assert.equal(hasErrors(jf.diagnostics), false);
  });
});

describe('jobs file: errors with line:col', () => {
  const cases: Array<{ what: string; text: string; expected: Array<[string, RegExp | string]>; env?: Record<string, string | undefined> }> = [
    // ---- schedule (errors from the schedule parser, mapped to columns)
    { what: 'hour out of range', text: '0 61 * * * cron clean', expected: [['1:3 error', 'invalid hour field "61": 61 is out of range (0-23)']] },
    { what: 'error in a later field, extra blanks', text: '  */5  *  *  *  xyz cron clean', expected: [['1:17 error', 'invalid day-of-week field "xyz": unknown name "xyz" (expected SUN-SAT or 0-7)']] },
    { what: 'error inside a list', text: '0 1,2,x * * * cron clean', expected: [['1:7 error', /^invalid hour field "1,2,x": "x" is not a number$/]] },
    { what: 'seconds field of a 6-field spec', text: '61 0 0 * * * cron clean', expected: [['1:1 error', /^invalid second field "61"/]] },
    { what: 'four fields are not padded', text: '0 0 * * cron clean', expected: [['1:1 error', /^a cron expression has 5 fields .* or 6 .*; got 4$/]] },
    { what: 'unknown descriptor', text: '@often cron clean', expected: [['1:1 error', /^unknown descriptor "@often"/]] },
    { what: '@reboot', text: '@reboot cron clean', expected: [['1:1 error', /^unknown descriptor "@reboot": @reboot has no meaning/]] },
    { what: 'never fires', text: '0 0 30 2 * cron clean', expected: [['1:1 error', '"0 0 30 2 *" never fires: no date matches its day and month fields']] },
    { what: 'never fires, indented', text: '   0 0 31 4 * cron clean', expected: [['1:4 error', /never fires/]] },
    { what: 'bad @every duration', text: '@every 1x rate clean', expected: [['1:8 error', /^invalid duration "1x": expected a number followed by ms, s, m, h or d at "1x"/]] },
    { what: 'bad @every duration, later part', text: '@every 1h30 rate clean', expected: [['1:10 error', /at "30"/]] },
    { what: '@every without a duration', text: '@every rate clean', expected: [['1:8 error', /^invalid duration "rate"/], ['1:13 error', 'expected a mode (cron, interval or rate) after the schedule, got "clean"']] },
    { what: '@every 0s', text: '@every 0s rate clean', expected: [['1:8 error', 'duration "0s" must be greater than zero']] },
    { what: 'error in an expanded variable points at the reference', text: 'MIN=99\n${MIN} 0 * * * cron clean', expected: [['2:1 error', /^invalid minute field "99": 99 is out of range/]] },
    // ---- mode
    { what: 'no mode', text: '0 0 * * *', expected: [['1:10 error', 'expected a mode (cron, interval or rate) after the schedule']] },
    { what: 'not a mode', text: '@daily daily clean', expected: [['1:8 error', 'expected a mode (cron, interval or rate) after the schedule, got "daily"']] },
    { what: '@every with cron', text: '@every 1d cron clean', expected: [['1:1 error', /^@every goes with mode rate .* or interval .*, not cron$/]] },
    { what: 'cron expression with interval', text: '0 0 * * * interval clean', expected: [['1:1 error', 'mode interval takes @every DURATION; a cron expression or descriptor goes with mode cron']] },
    { what: 'descriptor with rate', text: '  @daily rate clean', expected: [['1:3 error', 'mode rate takes @every DURATION; a cron expression or descriptor goes with mode cron']] },
    // ---- watcher
    { what: 'no watcher', text: '0 0 * * * cron', expected: [['1:15 error', 'expected a watcher name after the mode (known: clean, cleansecret, exec, task)']] },
    { what: 'unknown watcher', text: '0 0 * * * cron nope foo=1', expected: [['1:16 error', 'unknown watcher "nope" (known: clean, cleansecret, exec, task)']] },
    { what: 'required option missing', text: '@daily cron exec', expected: [['1:13 error', 'watcher exec needs option command= (The command line, run with /bin/sh -c.)']] },
    // ---- options
    { what: 'not key=value', text: '0 0 * * * cron clean foo', expected: [['1:22 error', 'expected key=value, got "foo"']] },
    { what: 'empty key', text: '0 0 * * * cron clean =x', expected: [['1:22 error', 'expected key=value, got "=x"']] },
    { what: 'trailing comment is not a comment', text: '@daily cron clean # nightly', expected: [['1:19 error', 'expected key=value, got "#"'], ['1:21 error', 'expected key=value, got "nightly"']] },
    { what: 'unknown option', text: '@daily cron clean bar=1', expected: [['1:19 error', /^unknown option "bar" for watcher clean \(its options: max-reserve-days, batch-size; common: name, tz, timeout, overlap, misfire, retries, retry-delay, lock-ttl, enabled, jitter, dry-run, notify, notify-on, ping, ping-style\)$/]] },
    { what: 'another watcher\'s option', text: '@daily cron clean command=ls', expected: [['1:19 error', /^unknown option "command" for watcher clean/]] },
    { what: 'option given twice', text: '@daily cron clean retries=1 retries=2', expected: [['1:29 error', 'option "retries" is given twice']] },
    { what: 'int: not a number', text: '@daily cron clean retries=x', expected: [['1:27 error', 'retries must be a whole number, got "x"']] },
    { what: 'int: below min', text: '@daily cron clean retries=-1', expected: [['1:27 error', 'retries must be at least 0, got -1']] },
    { what: 'int: above max', text: '@daily cron clean retries=101', expected: [['1:27 error', 'retries must be at most 100, got 101']] },
    { what: 'int: a watcher option below min', text: '@daily cron clean max-reserve-days=0', expected: [['1:36 error', 'max-reserve-days must be at least 1, got 0']] },
    { what: 'int: decimals', text: '@daily cron clean batch-size=1.5', expected: [['1:30 error', 'batch-size must be a whole number, got "1.5"']] },
    { what: 'duration: no unit', text: '@daily cron clean timeout=5', expected: [['1:27 error', /^timeout: invalid duration "5": expected a number followed by/]] },
    { what: 'duration: below min', text: '@daily cron clean lock-ttl=500ms', expected: [['1:28 error', 'lock-ttl must be at least 1s, got 500ms']] },
    { what: 'duration: above max', text: '@daily cron clean lock-ttl=2d', expected: [['1:28 error', 'lock-ttl must be at most 1d, got 2d']] },
    { what: 'duration: empty', text: '@daily cron clean timeout=', expected: [['1:27 error', /^timeout: empty duration/]] },
    { what: 'bool', text: '@daily cron clean dry-run=maybe', expected: [['1:27 error', 'dry-run must be true or false, got "maybe"']] },
    { what: 'enum', text: '@daily cron clean overlap=never', expected: [['1:27 error', 'overlap must be one of allow, skip, got "never"']] },
    { what: 'enum is case-sensitive', text: '@daily cron clean misfire=ONCE', expected: [['1:27 error', 'misfire must be one of skip, once, got "ONCE"']] },
    { what: 'string pattern: bad job name', text: '@daily cron clean name=-bad', expected: [['1:24 error', 'name has an invalid value "-bad"']] },
    { what: 'string pattern: name with a space', text: '@daily cron clean name="my job"', expected: [['1:24 error', 'name has an invalid value "my job"']] },
    { what: 'string required: empty command', text: '@daily cron exec command=', expected: [['1:26 error', 'command must not be empty']] },
    { what: 'string required: empty quoted command', text: '@daily cron exec command=""', expected: [['1:26 error', 'command must not be empty']] },
    { what: 'unknown tz= zone', text: '@daily cron clean tz=Mars/Base', expected: [['1:22 error', 'unknown time zone "Mars/Base" (expected an IANA name such as Europe/London or UTC)']] },
    { what: 'several option errors on one line', text: '0 0 * * * cron clean max-reserve-days=0 foo bar=1 timeout=1x name=c', expected: [['1:39 error', /max-reserve-days/], ['1:41 error', /"foo"/], ['1:45 error', /"bar"/], ['1:59 error', /^timeout: invalid duration "1x"/]] },
    // ---- names
    { what: 'duplicate default names', text: '0 1 * * * cron clean\n0 2 * * * cron clean', expected: [['2:1 error', 'duplicate job name "clean" (first defined on line 1); give one of them name=...']] },
    { what: 'duplicate explicit names', text: '0 1 * * * cron clean name=x\n\n  0 2 * * * cron task name=x', expected: [['3:3 error', 'duplicate job name "x" (first defined on line 1); give one of them name=...']] },
    { what: 'an explicit name equal to another job\'s default', text: '0 1 * * * cron clean\n0 2 * * * cron task name=clean', expected: [['2:1 error', /^duplicate job name "clean" \(first defined on line 1\)/]] },
    // ---- tokenizer
    { what: 'unterminated double quote', text: '@daily cron exec command="echo hi', expected: [['1:26 error', 'unterminated double quote']] },
    { what: 'unterminated single quote', text: "@daily cron exec command='echo hi", expected: [['1:26 error', 'unterminated single quote']] },
    { what: 'unterminated ${', text: '@daily cron exec command=${X', expected: [['1:26 error', 'unterminated "${"']] },
    { what: 'invalid variable reference', text: '@daily cron exec command=${-}', expected: [['1:26 error', 'invalid variable reference "${-}"']] },
    { what: 'invalid variable name', text: '@daily cron exec command=${1X}', expected: [['1:26 error', 'invalid variable reference "${1X}"']] },
    { what: 'unset variable', text: '@daily cron exec command=${NOPE}', expected: [['1:26 error', 'variable NOPE is not set (set it above this line or in the environment, or write ${NOPE:-default})']] },
    { what: 'unset variable inside double quotes', text: '@daily cron exec command="a ${NOPE}"', expected: [['1:29 error', /^variable NOPE is not set/]] },
    { what: 'two problems on one line', text: '@daily cron exec command=${A} name=${B}', expected: [['1:26 error', /^variable A is not set/], ['1:36 error', /^variable B is not set/]] },
    { what: 'a variable defined below is not visible above', text: '@daily cron exec command=${LATER}\nLATER=1', expected: [['1:26 error', /^variable LATER is not set/]] },
    // ---- variable lines
    { what: 'unset variable in a variable line', text: 'A=${NOPE}', expected: [['1:3 error', /^variable NOPE is not set/]] },
    { what: 'unset variable in a double-quoted value', text: 'B="x ${NOPE}"', expected: [['1:6 error', /^variable NOPE is not set/]] },
    { what: 'blanks around =', text: '  C = ${NOPE}', expected: [['1:7 error', /^variable NOPE is not set/]] },
    { what: 'unterminated ${ in a variable line', text: 'D=${NOPE', expected: [['1:3 error', 'unterminated "${"']] },
    { what: 'invalid reference in a variable line', text: 'E=x${1X}', expected: [['1:4 error', 'invalid variable reference "${1X}"']] },
    { what: 'CRON_TZ unknown', text: 'CRON_TZ=Mars/Base', expected: [['1:9 error', 'unknown time zone "Mars/Base" (expected an IANA name such as Europe/London or UTC)']] },
    { what: 'CRON_TZ empty', text: 'CRON_TZ=', expected: [['1:9 error', /^unknown time zone ""/]] },
    // ---- settings
    { what: 'REDIS_URL not a URL', text: 'REDIS_URL=not a url', expected: [['1:11 error', 'REDIS_URL (jobs file): not a Redis URL (expected redis://host:6379)']] },
    { what: 'REDIS_URL without a scheme', text: 'REDIS_URL=localhost:6379', expected: [['1:11 error', 'REDIS_URL (jobs file): not a URL: write redis://localhost:6379']] },
    { what: 'REDIS_URL wrong scheme', text: 'REDIS_URL=http://x', expected: [['1:11 error', 'REDIS_URL (jobs file): unsupported scheme "http:" (expected redis://, rediss://, redis+sentinel://, redis+cluster://)']] },
    { what: 'DATABASE_URL wrong scheme', text: 'DATABASE_URL=postgres://x/db', expected: [['1:14 error', 'DATABASE_URL (jobs file): unsupported scheme "postgres:" (expected mysql:// or mariadb://)']] },
    { what: 'DATABASE_URL not a URL', text: 'DATABASE_URL = ./file.db', expected: [['1:16 error', 'DATABASE_URL (jobs file): not a valid URL: expected the form mysql://user:password@host:3306/database']] },
    { what: 'IAMWATCH_PREFIX', text: 'IAMWATCH_PREFIX=a b', expected: [['1:17 error', 'IAMWATCH_PREFIX (jobs file): use letters, digits, _ . : and - only']] },
    { what: 'SHUTDOWN_TIMEOUT', text: 'SHUTDOWN_TIMEOUT=soon', expected: [['1:18 error', /^SHUTDOWN_TIMEOUT \(jobs file\): invalid duration "soon"/]] },
    { what: 'MAX_CLOCK_SKEW', text: 'MAX_CLOCK_SKEW=0s', expected: [['1:16 error', 'MAX_CLOCK_SKEW (jobs file): duration "0s" must be greater than zero']] },
    { what: 'HISTORY_LIMIT not a number', text: 'HISTORY_LIMIT=abc', expected: [['1:15 error', 'HISTORY_LIMIT (jobs file): must be a whole number, got "abc"']] },
    { what: 'HISTORY_LIMIT below min', text: 'HISTORY_LIMIT=0', expected: [['1:15 error', 'HISTORY_LIMIT (jobs file): must be at least 1, got 0']] },
    { what: 'HISTORY_MAX_AGE', text: 'HISTORY_MAX_AGE=1y', expected: [['1:17 error', /^HISTORY_MAX_AGE \(jobs file\): invalid duration "1y"/]] },
    { what: 'METRICS_ADDR', text: 'METRICS_ADDR=9464', expected: [['1:14 error', 'METRICS_ADDR (jobs file): expected host:port with a port up to 65535, e.g. 127.0.0.1:9464']] },
    { what: 'NOTIFY_URL', text: 'NOTIFY_URL=ftp://x', expected: [['1:12 error', 'NOTIFY_URL (jobs file): unsupported scheme "ftp:" (expected http:// or https://)']] },
    { what: 'a setting from an expanded variable', text: 'PORT=x\nMETRICS_ADDR=127.0.0.1:${PORT}', expected: [['2:14 error', /^METRICS_ADDR \(jobs file\): expected host:port/]] },
  ];
  for (const c of cases) {
    test(`${c.what}: ${JSON.stringify(c.text)}`, () => expectDiagnostics(c.text, c.expected, c.env));
  }

  test('a line with errors yields no job; the other lines still do', () => {
    const jf = parse('0 1 * * * cron clean\n0 61 * * * cron task\n0 3 * * * cron cleansecret');
    assert.deepEqual(jf.jobs.map((j) => j.name), ['clean', 'cleansecret']);
    assert.equal(hasErrors(jf.diagnostics), true);
  });

  test('every problem in a file is reported, in order', () => {
    const text = [
      '# a file with many problems',
      'REDIS_URL=http://x', // 2
      'CRON_TZ=Nowhere', // 3
      '0 61 * * * cron clean', // 4
      '@every 1d cron task', // 5
      '0 0 * * * cron nope', // 6
      '@daily cron exec', // 7
      '@daily cron cleansecret retries=x', // 8
      '@daily cron exec command="x', // 9
      '0 0 30 2 * cron clean name=feb30', // 10
      '@hourly cron clean', // 11 (valid)
      '@hourly cron clean', // 12 duplicate
    ].join('\n');
    const jf = parse(text);
    assert.deepEqual(jf.diagnostics.map((d) => `${d.line}:${d.col}`), ['2:11', '3:9', '4:3', '5:1', '6:16', '7:13', '8:33', '9:26', '10:1', '12:1']);
    assert.ok(jf.diagnostics.every((d) => d.severity === 'error' && d.file === 'jobs.conf'));
    assert.deepEqual(jf.jobs.map((j) => j.name), ['clean']);
    assert.equal(formatDiagnostic(jf.diagnostics[0]!), 'jobs.conf:2:11: error: REDIS_URL (jobs file): unsupported scheme "http:" (expected redis://, rediss://, redis+sentinel://, redis+cluster://)');
  });
});

describe('jobs file: warnings', () => {
  const cases: Array<{ what: string; text: string; expected: Array<[string, RegExp | string]> }> = [
    { what: 'every second', text: '* * * * * * cron clean', expected: [['1:1 warning', 'fires every second (60 times a minute) because the seconds field is *; write 0 to fire once a minute']] },
    { what: 'not every second: seconds */1 is explicit', text: '*/1 * * * * * cron clean', expected: [] },
    { what: 'not every second: five fields', text: '* * * * * cron clean', expected: [] },
    { what: 'day-of-month and day-of-week both restricted', text: '0 0 1,15 * MON cron clean', expected: [['1:5 warning', /^day-of-month and day-of-week are both restricted, so the job runs on days matching either \(cron's OR rule\)/]] },
    { what: 'OR warning points at day-of-month in six fields', text: '0 0 0 13 * FRI cron clean', expected: [['1:7 warning', /cron's OR rule/]] },
    { what: 'no OR warning when a day field starts with *', text: '0 0 */10 * MON cron clean', expected: [] },
    { what: 'no OR warning with ?', text: '0 0 ? * MON cron clean', expected: [] },
    { what: 'DST gap, New York', text: '30 2 * * * cron clean tz=America/New_York', expected: [['1:1 warning', '02:30 does not exist on 2026-03-08 in America/New_York (clocks jump from 02:00 to 03:00); that day the job runs once, at 03:00']] },
    { what: 'DST gap, London', text: '30 1 * * * cron clean tz=Europe/London', expected: [['1:1 warning', '01:30 does not exist on 2026-03-29 in Europe/London (clocks jump from 01:00 to 02:00); that day the job runs once, at 02:00']] },
    { what: 'DST gap, Sydney', text: '30 2 * * * cron clean tz=Australia/Sydney', expected: [['1:1 warning', '02:30 does not exist on 2026-10-04 in Australia/Sydney (clocks jump from 02:00 to 03:00); that day the job runs once, at 03:00']] },
    { what: 'DST gap via CRON_TZ', text: 'CRON_TZ=America/New_York\n  0 2 * * * cron clean', expected: [['2:3 warning', /^02:00 does not exist on 2026-03-08 in America\/New_York/]] },
    { what: 'no DST warning when the gap day does not match (weekdays; the jump is on a Sunday)', text: '30 2 * * MON-FRI cron clean tz=America/New_York', expected: [] },
    { what: 'no DST warning for wildcard jobs', text: '*/15 2 * * * cron clean tz=America/New_York', expected: [] },
    { what: 'no DST warning outside the gap', text: '30 2 * * * cron clean tz=Europe/London', expected: [] },
    { what: 'no DST warning in UTC', text: '30 2 * * * cron clean', expected: [] },
    { what: 'timeout longer than the period with overlap=skip (rate)', text: '@every 1m rate clean timeout=2m overlap=skip', expected: [['1:22 warning', 'timeout 2m is longer than the 1m between occurrences; with overlap=skip, occurrences that come while a run lasts are skipped']] },
    { what: 'timeout longer than the period with overlap=skip (cron)', text: '*/5 * * * * cron clean overlap=skip timeout=10m', expected: [['1:37 warning', /^timeout 10m is longer than the 5m between occurrences/]] },
    { what: 'timeout longer than the shortest gap of an irregular schedule', text: '0 0,1 * * * cron clean overlap=skip timeout=2h', expected: [['1:37 warning', /^timeout 2h is longer than the 1h between occurrences/]] },
    { what: 'no timeout warning with overlap=allow', text: '@every 1m rate clean timeout=2m', expected: [] },
    { what: 'no timeout warning when it fits', text: '@every 1m rate clean timeout=1m overlap=skip', expected: [] },
    { what: 'no timeout warning for interval jobs (overlap warned instead)', text: '@every 1m interval clean timeout=2m overlap=skip', expected: [['1:37 warning', 'overlap has no effect on interval jobs: their runs never overlap']] },
    { what: 'tz on @every (rate)', text: '@every 1h rate clean tz=Europe/London', expected: [['1:22 warning', 'tz has no effect on @every schedules (rate occurrences are anchored at the Unix epoch)']] },
    { what: 'tz on @every (interval)', text: '@every 1h interval clean tz=UTC', expected: [['1:26 warning', /^tz has no effect on @every schedules/]] },
    { what: 'misfire on interval', text: '@every 1h interval clean misfire=once', expected: [['1:26 warning', 'misfire has no effect on interval jobs: after downtime the next run starts as soon as an instance is up']] },
    { what: 'overlap and misfire on interval', text: '@every 1h interval clean overlap=skip misfire=skip', expected: [['1:26 warning', /^overlap has no effect/], ['1:39 warning', /^misfire has no effect/]] },
    { what: 'misfire and overlap on rate are fine', text: '@every 1h rate clean overlap=skip misfire=once', expected: [] },
    { what: 'several warnings on one line', text: '* * * 1 * MON cron clean', expected: [['1:1 warning', /every second/], ['1:7 warning', /OR rule/]] },
  ];
  for (const c of cases) {
    test(c.what, () => expectDiagnostics(c.text, c.expected));
  }

  test('warnings do not make a file invalid, and the job is kept', () => {
    const jf = parse('* * * * * * cron clean');
    assert.equal(hasErrors(jf.diagnostics), false);
    assert.equal(jf.jobs.length, 1);
  });

  test('the DST warning depends on now: only the coming year', () => {
    // After 2026-03-08, the next New York gap is 2027-03-14.
    const jf = parse('30 2 * * * cron clean tz=America/New_York', ENV, Date.UTC(2026, 5, 1));
    assert.match(jf.diagnostics[0]!.message, /on 2027-03-14 in America\/New_York/);
  });
});

describe('jobs file: variables', () => {
  test('${NAME} from the environment and from earlier lines; later lines win', () => {
    const job = onlyJob('DIR=/var/tmp\nDIR=/srv\n@daily cron exec command="ls ${DIR} ${HOME}"');
    assert.equal(job.options.command, 'ls /srv /home/ops');
  });

  test('a file variable shadows the environment', () => {
    assert.equal(onlyJob('HOME=/root\n@daily cron exec command=${HOME}').options.command, '/root');
  });

  test('${NAME:-default}', () => {
    const cases: Array<[string, string]> = [
      ['${NOPE:-fallback}', 'fallback'],
      ['${NOPE:-}', ''],
      ['${EMPTY:-fallback}', 'fallback'], // set but empty: the default, as in sh
      ['${HOME:-fallback}', '/home/ops'],
      ['${NOPE:-a b}', 'a b'],
      ['${EMPTY}', ''],
    ];
    for (const [ref, value] of cases) {
      assert.equal(onlyJob(`V=x${ref}y\n@daily cron exec command="\${V}"`).options.command, `x${value}y`, ref);
      assert.equal(onlyJob(`@daily cron exec command="x${ref}y"`).options.command, `x${value}y`, `${ref} in a job line`);
    }
  });

  test('$$ is a literal $, and a $ not followed by { is literal', () => {
    assert.equal(onlyJob('@daily cron exec command="echo $$HOME $HOME $"').options.command, 'echo $HOME $HOME $');
    assert.equal(onlyJob('@daily cron exec command=a$$b').options.command, 'a$b');
    assert.equal(onlyJob('V=$${HOME}\n@daily cron exec command=${V}').options.command, '${HOME}');
  });

  test('single quotes are literal; double quotes and bare words expand', () => {
    assert.equal(onlyJob("@daily cron exec command='echo ${HOME} $$'").options.command, 'echo ${HOME} $$');
    assert.equal(onlyJob('@daily cron exec command="echo ${HOME}"').options.command, 'echo /home/ops');
    assert.equal(onlyJob('@daily cron exec command=${HOME}').options.command, '/home/ops');
    const jf = parse("A='${HOME}'\nB=\"${HOME}\"\nC=${HOME}\nD= spaced out  \n@daily cron clean");
    assert.deepEqual(jf.diagnostics, []);
    assert.deepEqual(jf.variables, { A: '${HOME}', B: '/home/ops', C: '/home/ops', D: 'spaced out' });
  });

  test('each job sees the variables above it (its exec environment)', () => {
    const jf = parse('A=1\n@daily cron exec name=one command=true\nB=2\nA=3\n@daily cron exec name=two command=true');
    assert.deepEqual(jf.jobs.map((j) => j.env), [{ A: '1' }, { A: '3', B: '2' }]);
    assert.deepEqual(jf.variables, { A: '3', B: '2' });
  });

  test('CRON_TZ applies to the lines below it only; tz= overrides it', () => {
    const jf = parse([
      '@daily cron clean name=a',
      'CRON_TZ=america/new_york',
      '@daily cron clean name=b',
      '@daily cron clean name=c tz=Europe/London',
      'CRON_TZ=${ZONE:-Australia/Sydney}',
      '@daily cron clean name=d',
      'CRON_TZ=utc',
      '@daily cron clean name=e',
    ].join('\n'));
    assert.deepEqual(jf.diagnostics, []);
    assert.deepEqual(jf.jobs.map((j) => [j.name, j.tz]), [['a', 'UTC'], ['b', 'America/New_York'], ['c', 'Europe/London'], ['d', 'Australia/Sydney'], ['e', 'UTC']]);
  });

  test('CRON_TZ from the environment is not the default zone (only the file sets it)', () => {
    assert.equal(onlyJob('@daily cron clean', { CRON_TZ: 'Europe/London' }).tz, 'UTC');
  });

  test('settings: the file wins, else the environment, else the default', () => {
    const fromEnv = parse('@daily cron clean', { REDIS_URL: 'redis://env:6379', HISTORY_LIMIT: '50', IAMWATCH_PREFIX: 'envp' }).settings;
    assert.equal(fromEnv.redisUrl, 'redis://env:6379');
    assert.equal(fromEnv.historyLimit, 50);
    assert.equal(fromEnv.prefix, 'envp');
    const fromFile = parse('REDIS_URL=redis://file:6379\nHISTORY_LIMIT=7\nIAMWATCH_PREFIX=filep\nPLUGINS= ./a.js, ./b.js ,\nMETRICS_ADDR=:9464', { REDIS_URL: 'redis://env:6379', HISTORY_LIMIT: '50' }).settings;
    assert.equal(fromFile.redisUrl, 'redis://file:6379');
    assert.equal(fromFile.historyLimit, 7);
    assert.equal(fromFile.prefix, 'filep');
    assert.deepEqual(fromFile.plugins, ['./a.js', './b.js']);
    assert.equal(fromFile.metricsAddr, ':9464');
    const defaults = parse('', {}).settings;
    assert.deepEqual(defaults, {
      redisUrl: undefined,
      redisTls: { ca: undefined, cert: undefined, key: undefined, servername: undefined },
      databaseUrl: undefined,
      prefix: 'iamwatch',
      logLevel: 'info',
      plugins: [],
      pluginTimeoutMs: 10_000,
      shutdownTimeoutMs: 180_000,
      maxClockSkewMs: 5_000,
      historyLimit: 1000,
      historyMaxAgeMs: 30 * 86_400_000,
      metricsAddr: undefined,
      notifyUrl: undefined,
    });
  });

  test('settings: an empty value in the file means unset (REDIS_URL=${REDIS_URL:-})', () => {
    assert.equal(parse('REDIS_URL=${REDIS_URL:-}', {}).settings.redisUrl, undefined);
    assert.equal(parse('REDIS_URL=${REDIS_URL:-}', { REDIS_URL: 'redis://r:1' }).settings.redisUrl, 'redis://r:1');
    assert.deepEqual(parse('REDIS_URL=\nDATABASE_URL=\n@daily cron clean', {}).diagnostics, []);
  });

  test('settings: an invalid value in the environment is an error without a line, never a silent default', () => {
    const jf = parse('@daily cron clean', { HISTORY_LIMIT: 'many', REDIS_URL: 'nope', SHUTDOWN_TIMEOUT: '10s' });
    assert.deepEqual(jf.diagnostics.map(formatDiagnostic), [
      'jobs.conf: error: REDIS_URL (environment): not a URL: write redis://nope',
      'jobs.conf: error: HISTORY_LIMIT (environment): must be a whole number, got "many"',
    ]);
    // Kept as written, so nothing downstream can mistake it for "unset" (in-process locks).
    assert.equal(jf.settings.redisUrl, 'nope');
    assert.equal(jf.settings.shutdownTimeoutMs, 10_000);
  });

  test('a variable line is recognised with blanks and lower-case names; a job line is never one', () => {
    const jf = parse('  my_var =  hello world \n@daily cron clean name=x');
    assert.deepEqual(jf.diagnostics, []);
    assert.deepEqual(jf.variables, { my_var: 'hello world' });
    assert.equal(jf.jobs.length, 1);
  });
});

describe('jobs file: quoting and line endings', () => {
  const cases: Array<[token: string, value: string]> = [
    ['command="echo hi"', 'echo hi'],
    ["command='echo hi'", 'echo hi'],
    ['command="echo \'a b\'"', "echo 'a b'"],
    ["command='echo \"x y\"'", 'echo "x y"'],
    ['command="say \\"hi\\" \\\\ done"', 'say "hi" \\ done'],
    ["command='a\\b'", 'a\\b'],
    ['command=a\\b', 'a\\b'],
    ['command=echo" hi"', 'echo hi'],
    ['"command=echo hi"', 'echo hi'],
    ['command="a"\'b\'c', 'abc'],
    ['command="a=b c"', 'a=b c'],
    ['command=x=y', 'x=y'],
    ['command="  padded  "', '  padded  '],
    ['command="#not a comment"', '#not a comment'],
  ];
  for (const [token, value] of cases) {
    test(token, () => assert.equal(onlyJob(`@daily cron exec ${token}`).options.command, value));
  }

  test('columns count the raw text (quotes and references included)', () => {
    expectDiagnostics('@daily cron exec command="a b" retries=x', [['1:40 error', /^retries must be a whole number/]]);
    expectDiagnostics('@daily cron exec command=${HOME} retries=x', [['1:42 error', /^retries must be a whole number/]]);
  });

  test('CRLF line endings', () => {
    const jf = parse('A=1\r\n# comment\r\n0 3 * * * cron clean\r\n@daily cron exec command="echo ${A}"\r\n0 0 * * *\r\n');
    assert.deepEqual(jf.jobs.map((j) => [j.name, j.line, j.options.command ?? null]), [['clean', 3, null], ['exec', 4, 'echo 1']]);
    assert.deepEqual(jf.variables, { A: '1' });
    // The end-of-line column does not count the \r.
    assert.deepEqual(jf.diagnostics.map((d) => `${d.line}:${d.col}`), ['5:10']);
  });

  test('tabs separate tokens', () => {
    assert.equal(onlyJob('0\t3\t*\t*\t*\tcron\tclean\tname=t').name, 't');
  });

  test('a file without a final newline', () => {
    assert.equal(parse('@daily cron clean').jobs.length, 1);
  });
});

describe('tokenizer', () => {
  const lookup = (name: string): string | undefined => ({ A: 'alpha', E: '' })[name];
  test('tokens, columns and raw text', () => {
    const { tokens, problems } = tokenizeLine('  a "b c"  d=${A}x', lookup);
    assert.deepEqual(problems, []);
    assert.deepEqual(tokens, [
      { text: 'a', col: 3, raw: 'a' },
      { text: 'b c', col: 5, raw: '"b c"' },
      { text: 'd=alphax', col: 12, raw: 'd=${A}x' },
    ]);
  });
  test('problems with columns; the token is still produced', () => {
    const { tokens, problems } = tokenizeLine('x ${Z} "y', lookup);
    assert.deepEqual(problems, [{ col: 3, message: 'variable Z is not set (set it above this line or in the environment, or write ${Z:-default})' }, { col: 8, message: 'unterminated double quote' }]);
    assert.equal(tokens.length, 3);
  });
  test('expandText', () => {
    assert.deepEqual(expandText('a${A}b$$c${E}d${X:-y}', lookup), { text: 'aalphab$cdy', problems: [] });
    assert.deepEqual(expandText('${X}', lookup).problems.map((p) => p.col), [1]);
    assert.deepEqual(expandText('ab${', lookup).problems, [{ col: 3, message: 'unterminated "${"' }]);
  });
});

describe('option declarations', () => {
  const cases: Array<[decl: OptionDecl, text: string, result: { value: unknown } | { error: string }]> = [
    [{ type: 'int', description: '' }, '-5', { value: -5 }],
    [{ type: 'int', description: '', min: 1, max: 3 }, '3', { value: 3 }],
    [{ type: 'int', description: '', min: 1, max: 3 }, '4', { error: 'k must be at most 3, got 4' }],
    [{ type: 'int', description: '' }, '', { error: 'k must be a whole number, got ""' }],
    [{ type: 'duration', description: '', min: 60_000 }, '59s', { error: 'k must be at least 1m, got 59s' }],
    [{ type: 'duration', description: '', max: 60_000 }, '61s', { error: 'k must be at most 1m, got 61s' }],
    [{ type: 'duration', description: '' }, '1h', { value: 3_600_000 }],
    [{ type: 'bool', description: '' }, 'On', { value: true }],
    [{ type: 'bool', description: '' }, '', { error: 'k must be true or false, got ""' }],
    [{ type: 'enum', values: ['a', 'b'], description: '' }, 'c', { error: 'k must be one of a, b, got "c"' }],
    [{ type: 'string', description: '' }, '', { value: '' }],
    [{ type: 'string', description: '', required: true }, '', { error: 'k must not be empty' }],
    [{ type: 'string', description: '', pattern: /^x+$/ }, 'xy', { error: 'k has an invalid value "xy"' }],
  ];
  for (const [decl, text, result] of cases) {
    test(`${decl.type} ${JSON.stringify(text)}`, () => assert.deepEqual(coerceOption('k', decl, text), result));
  }

  test('checkDecls (plugin declarations)', () => {
    assert.deepEqual(checkDecls({ ok: { type: 'int', description: '' } }), []);
    assert.deepEqual(checkDecls(null), ['options must be an object of declarations']);
    assert.deepEqual(checkDecls('x'), ['options must be an object of declarations']);
    assert.deepEqual(checkDecls({ Bad_Name: { type: 'int' } }), ['option name "Bad_Name" must be lower-case letters, digits and dashes']);
    assert.deepEqual(checkDecls({ a: { type: 'float' } }), ['option "a" needs a type (int, duration, bool, string, enum, url)']);
    assert.deepEqual(checkDecls({ a: null }), ['option "a" needs a type (int, duration, bool, string, enum, url)']);
    assert.deepEqual(checkDecls({ a: { type: 'url' } }), ['url option "a" needs a non-empty protocols list, e.g. [\'https:\']']);
    assert.deepEqual(checkDecls({ a: { type: 'enum' } }), ['enum option "a" needs a non-empty values list']);
    assert.deepEqual(checkDecls({ a: { type: 'enum', values: [] } }), ['enum option "a" needs a non-empty values list']);
  });
});

describe('settings', () => {
  const cases: Array<[SettingName, string, string | null]> = [
    ['REDIS_URL', 'redis://h:6379/0', null],
    ['REDIS_URL', 'rediss://h', null],
    ['DATABASE_URL', 'mysql://u:p@h:3306/db', null],
    ['DATABASE_URL', 'mariadb://h/db', null],
    ['DATABASE_URL', 'sqlite:./x.sqlite', null],
    ['DATABASE_URL', 'sqlite::memory:', null],
    ['IAMWATCH_PREFIX', 'iam:prod.v1-x_y', null],
    ['IAMWATCH_PREFIX', 'a/b', 'use letters, digits, _ . : and - only'],
    ['METRICS_ADDR', '0.0.0.0:9464', null],
    ['METRICS_ADDR', 'localhost:99999x', 'expected host:port with a port up to 65535, e.g. 127.0.0.1:9464'],
    ['METRICS_ADDR', 'localhost:99999', 'expected host:port with a port up to 65535, e.g. 127.0.0.1:9464'],
    ['METRICS_ADDR', ':9464', null],
    ['METRICS_ADDR', '[::1]:9464', null],
    ['IAMWATCH_LOG_LEVEL', 'debug', null],
    ['IAMWATCH_LOG_LEVEL', 'verbose', 'must be one of trace, debug, info, warn, error, fatal, silent, got "verbose"'],
    ['NOTIFY_URL', 'https://user:pw@hooks.example/x', null],
    ['NOTIFY_URL', 'https//user:pw@hooks', 'not a valid URL: expected the form https://hooks.example.com/path'],
    ['NOTIFY_URL', 'https://hooks.example/x', null],
    ['SHUTDOWN_TIMEOUT', '3m', null],
    ['HISTORY_LIMIT', '1000001', 'must be at most 1000000, got 1000001'],
    ['PLUGINS', 'anything at all', null],
    ['CRON_TZ', 'not checked here', null],
  ];
  for (const [name, value, problem] of cases) {
    test(`${name}=${value}`, () => assert.equal(checkSetting(name, value), problem));
  }
  test('every setting has a description', () => {
    for (const [name, decl] of Object.entries(SETTINGS)) assert.ok(decl.description.length > 10, name);
  });
  test('resolveSettings reads numbers through their declarations', () => {
    const s = resolveSettings({ SHUTDOWN_TIMEOUT: '1m', MAX_CLOCK_SKEW: '250ms', HISTORY_MAX_AGE: '7d' }, { HISTORY_LIMIT: '5' });
    assert.deepEqual([s.shutdownTimeoutMs, s.maxClockSkewMs, s.historyMaxAgeMs, s.historyLimit], [60_000, 250, 7 * 86_400_000, 5]);
  });
});
