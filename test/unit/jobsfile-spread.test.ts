/**
 * The jobs file's side of spreading load and of its messages: `H` hashed from the job's name
 * (name=, else the watcher's), `jitter=` and its bound, and "did you mean" in the messages for an
 * unknown watcher, option, zone or mode. Called directly with a fixed `now` and the built-in watchers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobSpec } from '../../src/jobsfile/job.js';
import { parseJobsFile } from '../../src/jobsfile/parse.js';
import { WatcherRegistry } from '../../src/watchers/registry.js';

const NOW = Date.UTC(2026, 0, 1);

function diagnostics(text: string): string[] {
  return parseJobsFile({ text, file: 'jobs.conf', env: {}, watchers: new WatcherRegistry(), now: NOW }).diagnostics.map((d) => `${d.line}:${d.col} ${d.severity}: ${d.message}`);
}

function jobs(text: string): JobSpec[] {
  const jf = parseJobsFile({ text, file: 'jobs.conf', env: {}, watchers: new WatcherRegistry(), now: NOW });
  assert.deepEqual(jf.diagnostics.filter((d) => d.severity === 'error'), [], 'no errors');
  return jf.jobs;
}

const cronOf = (job: JobSpec) => {
  assert.equal(job.schedule.kind, 'cron');
  return job.schedule.kind === 'cron' ? job.schedule.cron : (undefined as never);
};

describe('H in a jobs file hashes the job name', () => {
  test('the name is name= when given, else the watcher\'s name, wherever name= is on the line', () => {
    const [byWatcher, byName, byNameLater] = jobs(['H H * * * cron clean', 'H H * * * cron task name=backup', 'H H * * * cron cleansecret batch-size=10 name=nightly-report'].join('\n'));
    // Pinned in schedule-hash.test.ts: clean 15:27, backup 16:53, nightly-report 23:36.
    assert.deepEqual([cronOf(byWatcher!).hours, cronOf(byWatcher!).minutes], [[15], [27]]);
    assert.deepEqual([cronOf(byName!).hours, cronOf(byName!).minutes], [[16], [53]]);
    assert.deepEqual([cronOf(byNameLater!).hours, cronOf(byNameLater!).minutes], [[23], [36]]);
  });

  test('the schedule keeps its text; H with a step in a 6-field spec', () => {
    const [job] = jobs('H/20 H * * * * cron clean name=backup');
    assert.equal(job!.schedule.source, 'H/20 H * * * *');
    assert.deepEqual(cronOf(job!).seconds, [5, 25, 45]);
  });

  test('H errors point at the field', () => {
    assert.deepEqual(diagnostics('0 H(1-2 * * * cron clean'), ['1:3 error: invalid hour field "H(1-2": "H(1-2": H is written H, H/n, H(a-b) or H(a-b)/n']);
  });
});

describe('jitter=', () => {
  test('parsed as a duration; absent is 0', () => {
    const [a, b] = jobs('@hourly cron clean jitter=10m\n@hourly cron task');
    assert.equal(a!.jitterMs, 600_000);
    assert.equal(b!.jitterMs, 0);
  });

  const ok = ['@hourly cron clean jitter=1h', '0 12 * * * cron clean jitter=1d', '@every 10m rate clean jitter=10m', '@every 10m interval clean jitter=10m', '*/15 * * * * * cron clean jitter=15s', '0 9,10 * * * cron clean jitter=1h'];
  for (const line of ok) test(`at most the time between occurrences: ${line}`, () => assert.equal(jobs(line).length, 1));

  const bad: Array<[string, string]> = [
    ['@hourly cron clean jitter=61m', '1:27 error: jitter 1h1m is longer than the 1h between two occurrences (from 2026-01-01T01:00:00+00:00); write at most jitter=1h, so each occurrence starts before the next one is due'],
    ['0 9,10 * * * cron clean jitter=2h', '1:32 error: jitter 2h is longer than the 1h between two occurrences (from 2026-01-01T09:00:00+00:00); write at most jitter=1h, so each occurrence starts before the next one is due'],
    ['@every 10m rate clean jitter=11m', '1:30 error: jitter 11m is longer than the 10m between two occurrences; write at most jitter=10m, so each occurrence starts before the next one is due'],
    ['@every 10m interval clean jitter=10m1s', '1:34 error: jitter 10m1s is longer than the 10m between two occurrences; write at most jitter=10m, so each occurrence starts before the next one is due'],
    // The spring-forward day makes one gap of a New York noon job 23 h, in whichever week it is checked.
    ['0 12 * * * cron clean jitter=1d tz=America/New_York', '1:30 error: jitter 1d is longer than the 23h between two occurrences (from 2026-03-07T12:00:00-05:00); write at most jitter=23h, so each occurrence starts before the next one is due'],
    ['@hourly cron clean jitter=0s', '1:27 error: jitter: duration "0s" must be greater than zero'],
    ['@hourly cron clean jitter=soon', '1:27 error: jitter: invalid duration "soon": expected a number followed by ms, s, m, h or d at "soon" (examples: 90s, 1h30m, 1d)'],
  ];
  for (const [line, message] of bad) test(`rejected: ${line}`, () => assert.deepEqual(diagnostics(line), [message]));
});

describe('did you mean', () => {
  const cases: Array<[line: string, message: string]> = [
    // watchers (the list of known ones stays)
    ['0 0 * * * cron clena', '1:16 error: unknown watcher "clena" (known: clean, cleansecret, exec, task); did you mean "clean"?'],
    ['0 0 * * * cron cleensecret', '1:16 error: unknown watcher "cleensecret" (known: clean, cleansecret, exec, task); did you mean "cleansecret"?'],
    ['0 0 * * * cron tsak', '1:16 error: unknown watcher "tsak" (known: clean, cleansecret, exec, task); did you mean "task"?'],
    ['0 0 * * * cron nope', '1:16 error: unknown watcher "nope" (known: clean, cleansecret, exec, task)'],
    // modes, including one a cron field could not be, right after five fields
    ['0 3 * * * crn clean', '1:11 error: expected a mode (cron, interval or rate) after the schedule, got "crn"; did you mean "cron"?'],
    ['0 3 * * * Cron clean', '1:11 error: expected a mode (cron, interval or rate) after the schedule, got "Cron"; did you mean "cron"?'],
    ['@daily corn clean', '1:8 error: expected a mode (cron, interval or rate) after the schedule, got "corn"; did you mean "cron"?'],
    ['@every 1h intervl cleansecret', '1:11 error: expected a mode (cron, interval or rate) after the schedule, got "intervl"; did you mean "interval"?'],
    ['@every 1h rat cleansecret', '1:11 error: expected a mode (cron, interval or rate) after the schedule, got "rat"; did you mean "rate"?'],
    ['@daily daily clean', '1:8 error: expected a mode (cron, interval or rate) after the schedule, got "daily"'],
    // a day name is a sixth field, not a misspelled mode
    ['0 0 * * * sat clean', '1:15 error: expected a mode (cron, interval or rate) after the schedule, got "clean"'],
  ];
  for (const [line, message] of cases) test(line, () => assert.deepEqual(diagnostics(line), [message]));

  const COMMON = 'common: name, tz, timeout, overlap, misfire, retries, retry-delay, lock-ttl, enabled, jitter, dry-run, notify, notify-on, ping, ping-style';
  const options: Array<[key: string, suggestion: string | null]> = [
    ['max-reserve-day', 'max-reserve-days'],
    ['lockttl', 'lock-ttl'],
    ['dryrun', 'dry-run'],
    ['jiter', 'jitter'],
    ['retires', 'retries'],
    ['bar', null],
  ];
  for (const [key, suggestion] of options) {
    test(`option ${key}=`, () => {
      assert.deepEqual(diagnostics(`@daily cron clean ${key}=1`), [
        `1:19 error: unknown option "${key}" for watcher clean (its options: max-reserve-days, batch-size; ${COMMON})${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
      ]);
    });
  }

  const zones: Array<[line: string, col: number, zone: string, suggestion: string]> = [
    ['@daily cron clean tz=Europe/Londn', 22, 'Europe/Londn', '; did you mean "Europe/London"?'],
    ['@daily cron clean tz=America/New_Yrok', 22, 'America/New_Yrok', '; did you mean "America/New_York"?'],
    ['@daily cron clean tz=Mars/Base', 22, 'Mars/Base', ''],
    ['CRON_TZ=Europe/Berln', 9, 'Europe/Berln', '; did you mean "Europe/Berlin"?'],
    ['CRON_TZ=Mars/Base', 9, 'Mars/Base', ''],
    ['CRON_TZ=UTX', 9, 'UTX', '; did you mean "UTC"?'],
  ];
  for (const [line, col, zone, suggestion] of zones) {
    test(line, () => assert.deepEqual(diagnostics(line), [`1:${col} error: unknown time zone "${zone}" (expected an IANA name such as Europe/London or UTC)${suggestion}`]));
  }
});
