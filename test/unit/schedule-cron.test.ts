/**
 * Cron expressions with cronie's rules (crontab(5)) plus L/W/#/?, and next-occurrence math with
 * cronie's DST rules. Table-driven; every case names the spec, the zone and the start instant.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCron, SpecSyntaxError, type CronSpec } from '../../src/schedule/cron-spec.js';
import { dayMatches, everFires } from '../../src/schedule/cron-next.js';
import { formatInstant, parseTimeInput, resolveTimeInput } from '../../src/schedule/iso.js';
import { cronSchedule, parseScheduleExpr } from '../../src/schedule/schedule.js';

/** The next `count` occurrences of `spec` in `tz` strictly after `from` (ISO; wall time when it has no offset). */
function occurrences(spec: string, tz: string, from: string, count: number): string[] {
  const expr = parseScheduleExpr(spec);
  assert.equal(expr.kind, 'cron', `${spec} is a cron expression`);
  if (expr.kind !== 'cron') return [];
  const schedule = cronSchedule(expr, tz);
  const input = parseTimeInput(from);
  assert.ok(input, `bad test input ${from}`);
  let t = resolveTimeInput(input, tz);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const next = schedule.next(t);
    if (next === null) break;
    assert.ok(next > t, `${spec}: ${formatInstant(next, tz)} is not after ${formatInstant(t, tz)}`);
    out.push(formatInstant(next, tz));
    t = next;
  }
  return out;
}

const range = (lo: number, hi: number, step = 1): number[] => {
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(v);
  return out;
};
const monthList = (spec: CronSpec): number[] => range(1, 12).filter((m) => spec.months[m]);
const dowList = (spec: CronSpec): number[] => range(0, 6).filter((d) => spec.dow.days[d]);
const domList = (spec: CronSpec): number[] => range(1, 31).filter((d) => spec.dom.days[d]);

describe('cron fields: values, ranges, lists, steps, names', () => {
  const cases: Array<{ spec: string; seconds?: number[]; minutes?: number[]; hours?: number[]; dom?: number[]; months?: number[]; dow?: number[] }> = [
    { spec: '* * * * *', seconds: [0], minutes: range(0, 59), hours: range(0, 23), dom: range(1, 31), months: range(1, 12), dow: range(0, 6) },
    { spec: '5 4 3 2 1', minutes: [5], hours: [4], dom: [3], months: [2], dow: [1] },
    { spec: '*/15 */6 */10 */4 */2', minutes: [0, 15, 30, 45], hours: [0, 6, 12, 18], dom: [1, 11, 21, 31], months: [1, 5, 9], dow: [0, 2, 4, 6] },
    { spec: '10-30/10 8-17/3 1-10/4 3-12/3 1-5/2', minutes: [10, 20, 30], hours: [8, 11, 14, 17], dom: [1, 5, 9], months: [3, 6, 9, 12], dow: [1, 3, 5] },
    { spec: '5/20 3/6 2/15 2/5 1/3', minutes: [5, 25, 45], hours: [3, 9, 15, 21], dom: [2, 17], months: [2, 7, 12], dow: [1, 4, 0] },
    { spec: '0-59 0-23 1-31 1-12 0-6', minutes: range(0, 59), hours: range(0, 23), dom: range(1, 31), months: range(1, 12), dow: range(0, 6) },
    { spec: '1,2,5,9 0-4,8-12 1,15 1,6 0,3', minutes: [1, 2, 5, 9], hours: [0, 1, 2, 3, 4, 8, 9, 10, 11, 12], dom: [1, 15], months: [1, 6], dow: [0, 3] },
    // Duplicate and overlapping list members are legal (cron-parser rejects them).
    { spec: '0 0-6,1,10 * * *', hours: [0, 1, 2, 3, 4, 5, 6, 10] },
    { spec: '1,1,1 0-12,6-18,12 1-10,5-15 1-3,2-4 1-3,2-4,3', minutes: [1], hours: range(0, 18), dom: range(1, 15), months: [1, 2, 3, 4], dow: [1, 2, 3, 4] },
    // Names, case-insensitive.
    { spec: '0 0 * JAN-mar sun', months: [1, 2, 3], dow: [0] },
    { spec: '0 0 * jan,Jun,DEC Mon,wEd,FRI', months: [1, 6, 12], dow: [1, 3, 5] },
    { spec: '0 0 * feb-NOV/3 mon-fri/2', months: [2, 5, 8, 11], dow: [1, 3, 5] },
    // 0 and 7 are both Sunday; MON-SUN and 5-0 wrap to 7.
    { spec: '0 0 * * 0', dow: [0] },
    { spec: '0 0 * * 7', dow: [0] },
    { spec: '0 0 * * 0,7', dow: [0] },
    { spec: '0 0 * * 0-7', dow: range(0, 6) },
    { spec: '0 0 * * MON-SUN', dow: range(0, 6) },
    { spec: '0 0 * * mon-sun', dow: range(0, 6) },
    { spec: '0 0 * * 5-0', dow: [0, 5, 6] },
    { spec: '0 0 * * FRI-SUN', dow: [0, 5, 6] },
    { spec: '0 0 * * SAT-7', dow: [0, 6] },
    { spec: '0 0 * * 6-7', dow: [0, 6] },
    { spec: '0 0 * * 7-0', dow: [0] },
    // `n/step` and `a-b/step` run through 7 = Sunday in day-of-week, like `*` ("first-last" = 0-7).
    { spec: '0 0 * * 1-7/2', dow: [0, 1, 3, 5] },
    { spec: '0 0 * * 1/2', dow: [0, 1, 3, 5] },
    { spec: '0 0 * * 7/2', dow: [0] },
    { spec: '0 0 * * */7', dow: [0] },
    { spec: '0 0 * * 5/1', dow: [0, 5, 6] },
    // Six fields: seconds first.
    { spec: '*/20 * * * * *', seconds: [0, 20, 40], minutes: range(0, 59) },
    { spec: '0,30 5 * * * *', seconds: [0, 30], minutes: [5] },
    { spec: '59 59 23 31 12 6', seconds: [59], minutes: [59], hours: [23], dom: [31], months: [12], dow: [6] },
  ];
  for (const c of cases) {
    test(c.spec, () => {
      const spec = parseCron(c.spec);
      if (c.seconds) assert.deepEqual(spec.seconds, c.seconds, 'seconds');
      if (c.minutes) assert.deepEqual(spec.minutes, c.minutes, 'minutes');
      if (c.hours) assert.deepEqual(spec.hours, c.hours, 'hours');
      if (c.dom) assert.deepEqual(domList(spec), c.dom, 'day-of-month');
      if (c.months) assert.deepEqual(monthList(spec), c.months, 'months');
      if (c.dow) assert.deepEqual(dowList(spec), [...c.dow].sort((a, b) => a - b), 'day-of-week');
    });
  }

  test('duplicate members give the same schedule as the deduplicated list', () => {
    assert.deepEqual(
      occurrences('0 0-6,1,10 * * *', 'UTC', '2021-06-01T00:00Z', 10),
      occurrences('0 0-6,10 * * *', 'UTC', '2021-06-01T00:00Z', 10),
    );
  });

  test('the source is kept as written (trimmed)', () => {
    assert.equal(parseCron('  */5  *  * * *  ').source, '*/5  *  * * *');
    assert.equal(parseCron('@Daily').source, '@Daily');
  });
});

describe('descriptors', () => {
  const cases: Array<[descriptor: string, equivalent: string]> = [
    ['@yearly', '0 0 1 1 *'],
    ['@annually', '0 0 1 1 *'],
    ['@monthly', '0 0 1 * *'],
    ['@weekly', '0 0 * * 0'],
    ['@daily', '0 0 * * *'],
    ['@midnight', '0 0 * * *'],
    ['@hourly', '0 * * * *'],
    ['@MIDNIGHT', '0 0 * * *'],
    ['@Hourly', '0 * * * *'],
  ];
  for (const [descriptor, equivalent] of cases) {
    test(`${descriptor} = ${equivalent}`, () => {
      const a = parseCron(descriptor);
      const b = parseCron(equivalent);
      assert.deepEqual({ ...a, source: '' }, { ...b, source: '' });
      assert.equal(a.source, descriptor);
      for (const [tz, from] of [['UTC', '2021-12-30T22:00Z'], ['America/New_York', '2021-03-13T00:00']] as const) {
        assert.deepEqual(occurrences(descriptor, tz, from, 5), occurrences(equivalent, tz, from, 5));
      }
    });
  }
  test('@midnight from a time of day', () => {
    assert.deepEqual(occurrences('@midnight', 'UTC', '2021-02-01T13:00Z', 2), ['2021-02-02T00:00:00+00:00', '2021-02-03T00:00:00+00:00']);
  });
});

describe('next occurrences in UTC', () => {
  const cases: Array<{ spec: string; from: string; next: string[] }> = [
    { spec: '*/15 * * * *', from: '2021-06-01T10:07Z', next: ['10:15', '10:30', '10:45', '11:00'].map((t) => `2021-06-01T${t}:00+00:00`) },
    { spec: '*/15 * * * *', from: '2021-06-01T10:15Z', next: ['10:30', '10:45'].map((t) => `2021-06-01T${t}:00+00:00`) },
    { spec: '0 0 1 1 *', from: '2021-12-31T23:59:59Z', next: ['2022-01-01T00:00:00+00:00', '2023-01-01T00:00:00+00:00'] },
    { spec: '59 23 31 12 *', from: '2021-01-01T00:00Z', next: ['2021-12-31T23:59:00+00:00', '2022-12-31T23:59:00+00:00'] },
    { spec: '*/20 * * * * *', from: '2021-06-01T10:00:50Z', next: ['2021-06-01T10:01:00+00:00', '2021-06-01T10:01:20+00:00', '2021-06-01T10:01:40+00:00'] },
    { spec: '* * * * * *', from: '2021-06-01T10:00:59.500Z', next: ['2021-06-01T10:01:00+00:00', '2021-06-01T10:01:01+00:00'] },
    { spec: '0 0 31 * *', from: '2021-01-31T00:00Z', next: ['2021-03-31T00:00:00+00:00', '2021-05-31T00:00:00+00:00', '2021-07-31T00:00:00+00:00', '2021-08-31T00:00:00+00:00'] },
    { spec: '0 12 * * MON-FRI', from: '2021-06-04T12:00Z', next: ['2021-06-07T12:00:00+00:00', '2021-06-08T12:00:00+00:00'] },
    { spec: '0 12 * * 5-0', from: '2021-06-03T00:00Z', next: ['2021-06-04T12:00:00+00:00', '2021-06-05T12:00:00+00:00', '2021-06-06T12:00:00+00:00', '2021-06-11T12:00:00+00:00'] },
    { spec: '0 12 * * 7', from: '2021-06-01T00:00Z', next: ['2021-06-06T12:00:00+00:00', '2021-06-13T12:00:00+00:00'] },
    { spec: '0 0 * FEB *', from: '2021-02-27T00:00Z', next: ['2021-02-28T00:00:00+00:00', '2022-02-01T00:00:00+00:00'] },
    { spec: '30 8 1-7 * *', from: '2021-06-07T08:30Z', next: ['2021-07-01T08:30:00+00:00'] },
  ];
  for (const c of cases) {
    test(`${c.spec} after ${c.from}`, () => {
      assert.deepEqual(occurrences(c.spec, 'UTC', c.from, c.next.length), c.next);
    });
  }
});

describe('day-of-month and day-of-week', () => {
  const cases: Array<{ spec: string; from: string; next: string[]; dayOr: boolean }> = [
    // Both restricted: either matches (crontab(5): "30 4 1,15 * 5" runs on the 1st, the 15th and every Friday).
    { spec: '30 4 1,15 * 5', from: '2021-10-01T05:00Z', dayOr: true, next: ['2021-10-08', '2021-10-15', '2021-10-22', '2021-10-29', '2021-11-01', '2021-11-05'].map((d) => `${d}T04:30:00+00:00`) },
    // Either starts with *: both must match.
    { spec: '0 0 * * MON', from: '2021-02-01T00:00Z', dayOr: false, next: ['2021-02-08', '2021-02-15'].map((d) => `${d}T00:00:00+00:00`) },
    { spec: '0 0 13 * *', from: '2021-01-01T00:00Z', dayOr: false, next: ['2021-01-13', '2021-02-13'].map((d) => `${d}T00:00:00+00:00`) },
    // `*/10` counts as `*`: days 1, 11, 21, 31 that are also Mondays.
    { spec: '0 0 */10 * MON', from: '2021-02-01T00:00Z', dayOr: false, next: ['2021-03-01', '2021-05-31', '2021-06-21', '2021-10-11'].map((d) => `${d}T00:00:00+00:00`) },
    // ... and the same with the step in day-of-week: the 13th when it is a Sunday, Tuesday, Thursday or Saturday.
    { spec: '0 0 13 * */2', from: '2021-01-01T00:00Z', dayOr: false, next: ['2021-02-13', '2021-03-13', '2021-04-13', '2021-05-13'].map((d) => `${d}T00:00:00+00:00`) },
    // `*-...` forms don't exist, but a range that covers everything is still "restricted": OR, so every day.
    { spec: '0 0 1 * 0-6', from: '2021-01-01T00:00Z', dayOr: true, next: ['2021-01-02', '2021-01-03'].map((d) => `${d}T00:00:00+00:00`) },
    { spec: '0 0 13 * FRI', from: '2021-08-01T00:00Z', dayOr: true, next: ['2021-08-06', '2021-08-13', '2021-08-20', '2021-08-27', '2021-09-03'].map((d) => `${d}T00:00:00+00:00`) },
    // `?` behaves as `*`.
    { spec: '0 0 ? * MON', from: '2021-02-01T00:00Z', dayOr: false, next: ['2021-02-08', '2021-02-15'].map((d) => `${d}T00:00:00+00:00`) },
    { spec: '0 0 13 * ?', from: '2021-01-01T00:00Z', dayOr: false, next: ['2021-01-13', '2021-02-13'].map((d) => `${d}T00:00:00+00:00`) },
  ];
  for (const c of cases) {
    test(`${c.spec} after ${c.from}`, () => {
      assert.equal(parseCron(c.spec).dayOr, c.dayOr, 'dayOr');
      assert.deepEqual(occurrences(c.spec, 'UTC', c.from, c.next.length), c.next);
    });
  }

  test('dayMatches truth table', () => {
    // 2021-10-15 is a Friday; 2021-10-16 a Saturday; 2021-10-01 a Friday.
    const table: Array<[spec: string, y: number, m: number, d: number, hit: boolean]> = [
      ['0 0 15 * 6', 2021, 10, 15, true],
      ['0 0 15 * 6', 2021, 10, 16, true],
      ['0 0 15 * 6', 2021, 10, 17, false],
      ['0 0 */5 * 6', 2021, 10, 16, true], // 16 = 1 + 3*5 and a Saturday
      ['0 0 */5 * 6', 2021, 10, 15, false],
      ['0 0 */5 * 6', 2021, 10, 23, false],
      ['0 0 15 * */3', 2021, 10, 15, false], // Friday is not in 0,3,6
      ['0 0 15 * *', 2021, 10, 15, true],
      ['0 0 * * 5', 2021, 10, 1, true],
      ['0 0 * * 5', 2021, 10, 2, false],
    ];
    for (const [spec, y, m, d, hit] of table) assert.equal(dayMatches(parseCron(spec), y, m, d), hit, `${spec} on ${y}-${m}-${d}`);
  });
});

describe('Quartz extensions: L, L-n, LW, nW, nL, n#k, ?', () => {
  const cases: Array<{ spec: string; from: string; next: string[] }> = [
    { spec: '0 0 L * *', from: '2024-01-31T00:00Z', next: ['2024-02-29', '2024-03-31', '2024-04-30'] },
    { spec: '0 0 L * *', from: '2023-01-31T00:00Z', next: ['2023-02-28'] },
    { spec: '0 0 L-2 * *', from: '2021-02-01T00:00Z', next: ['2021-02-26', '2021-03-29', '2021-04-28'] },
    { spec: '0 0 L-0 * *', from: '2021-02-01T00:00Z', next: ['2021-02-28', '2021-03-31'] },
    { spec: '0 0 L-30 * *', from: '2020-12-31T00:00Z', next: ['2021-01-01', '2021-03-01', '2021-05-01'] },
    // LW: 2021-04-30 Fri; 2021-07-31 is a Saturday -> Fri 30; 2021-10-31 is a Sunday -> Fri 29.
    { spec: '0 0 LW * *', from: '2021-04-01T00:00Z', next: ['2021-04-30', '2021-05-31', '2021-06-30', '2021-07-30', '2021-08-31', '2021-09-30', '2021-10-29'] },
    { spec: '0 0 lw * *', from: '2021-07-01T00:00Z', next: ['2021-07-30'] },
    // 15W: 2021-05-15 is a Saturday -> Fri 14; 2021-08-15 a Sunday -> Mon 16; 2021-06-15 a Tuesday.
    { spec: '0 0 15W * *', from: '2021-05-01T00:00Z', next: ['2021-05-14', '2021-06-15', '2021-07-15', '2021-08-16'] },
    // 1W on a Saturday (2022-01-01) does not cross into the previous month: Monday the 3rd.
    { spec: '0 0 1W * *', from: '2021-12-15T00:00Z', next: ['2022-01-03', '2022-02-01'] },
    // 1W on a Sunday (2021-08-01): Monday the 2nd.
    { spec: '0 0 1W * *', from: '2021-07-15T00:00Z', next: ['2021-08-02'] },
    // 31W: months without a 31st are skipped (April, June); 2021-07-31 Saturday -> Fri 30; 2021-10-31 Sunday -> Fri 29.
    { spec: '0 0 31W * *', from: '2021-04-01T00:00Z', next: ['2021-05-31', '2021-07-30', '2021-08-31', '2021-10-29', '2021-12-31'] },
    // 30W in February never matches; the rest of the year it does.
    { spec: '0 0 30W * *', from: '2021-01-30T00:00Z', next: ['2021-03-30'] },
    { spec: '0 0 1,L * *', from: '2021-02-01T00:00Z', next: ['2021-02-28', '2021-03-01', '2021-03-31'] },
    // nL: the last n-day of the month.
    { spec: '0 0 * * 5L', from: '2021-02-01T00:00Z', next: ['2021-02-26', '2021-03-26', '2021-04-30'] },
    { spec: '0 0 * * FRIL', from: '2021-02-01T00:00Z', next: ['2021-02-26'] },
    { spec: '0 0 * * 0L', from: '2021-02-01T00:00Z', next: ['2021-02-28', '2021-03-28'] },
    { spec: '0 0 * * 7L', from: '2021-02-01T00:00Z', next: ['2021-02-28', '2021-03-28'] },
    // n#k: the k-th n-day.
    { spec: '0 0 * * 2#2', from: '2021-02-01T00:00Z', next: ['2021-02-09', '2021-03-09', '2021-04-13'] },
    { spec: '0 0 * * TUE#2', from: '2021-02-01T00:00Z', next: ['2021-02-09'] },
    { spec: '0 0 * * 1#1', from: '2021-02-01T00:00Z', next: ['2021-03-01', '2021-04-05'] },
    // 5#5: only months with five Fridays.
    { spec: '0 0 * * 5#5', from: '2021-01-01T00:00Z', next: ['2021-01-29', '2021-04-30', '2021-07-30', '2021-10-29'] },
    { spec: '0 0 * * 1#1,5L', from: '2021-02-01T00:00Z', next: ['2021-02-26', '2021-03-01', '2021-03-26'] },
    // Extensions in both day fields: cron's OR.
    { spec: '0 0 L * 1#1', from: '2021-02-01T00:00Z', next: ['2021-02-28', '2021-03-01', '2021-03-31', '2021-04-05'] },
    // With `?` or `*` in the other field: AND with an all-days field.
    { spec: '0 0 L * ?', from: '2021-02-01T00:00Z', next: ['2021-02-28'] },
    { spec: '0 0 ? * 5L', from: '2021-02-01T00:00Z', next: ['2021-02-26'] },
  ];
  for (const c of cases) {
    test(`${c.spec} after ${c.from}`, () => {
      assert.deepEqual(occurrences(c.spec, 'UTC', c.from, c.next.length), c.next.map((d) => `${d}T00:00:00+00:00`));
    });
  }
});

describe('field counts', () => {
  test('5 fields without seconds, 6 fields with seconds first', () => {
    assert.deepEqual(parseCron('1 2 3 4 5').seconds, [0]);
    const six = parseCron('1 2 3 4 5 6');
    assert.deepEqual([six.seconds, six.minutes, six.hours, domList(six), monthList(six), dowList(six)], [[1], [2], [3], [4], [5], [6]]);
  });
  const wrong: Array<[spec: string, got: number, index: number]> = [
    ['*', 1, 0],
    ['0 0', 2, 0],
    ['0 0 *', 3, 0],
    ['0 0 * *', 4, 0],
    ['  0 0 * *', 4, 2],
    ['0 0 0 * * * *', 7, 12],
    ['0 0 0 * * * 2021', 7, 12],
    ['0 0 0 * * * * *', 8, 12],
  ];
  for (const [spec, got, index] of wrong) {
    test(`"${spec}" is an error, not padded or truncated`, () => {
      assert.throws(() => parseCron(spec), (e: unknown) => {
        assert.ok(e instanceof SpecSyntaxError);
        assert.match(e.message, new RegExp(`5 fields .* or 6 .*got ${got}$`));
        assert.equal(e.index, index);
        return true;
      });
    });
  }
});

describe('never-firing specs are errors', () => {
  const never = ['0 0 30 2 *', '0 0 31 4 *', '0 0 0 30 2 *', '0 0 31 2,4,6,9,11 *', '0 0 30,31 feb *', '0 0 31W 4 *', '0 0 30W 2 *', '0 0 L-29 2 *', '0 0 30 2 ?', '0 0 31 4 */7'];
  for (const spec of never) {
    test(spec, () => {
      assert.equal(everFires(parseCron(spec)), false);
      assert.throws(() => parseScheduleExpr(spec), (e: unknown) => {
        assert.ok(e instanceof SpecSyntaxError);
        assert.equal(e.message, `"${spec}" never fires: no date matches its day and month fields`);
        assert.equal(e.index, 0);
        return true;
      });
    });
  }
  test('the error points at the spec, after leading blanks', () => {
    assert.throws(() => parseScheduleExpr('   0 0 31 4 *'), (e: unknown) => e instanceof SpecSyntaxError && e.index === 3);
  });
  const rare: Array<{ spec: string; from: string; next: string[] }> = [
    { spec: '0 0 29 2 *', from: '2021-01-01T00:00Z', next: ['2024-02-29'] },
    // Both restricted: OR, so February Mondays fire although Feb 30 does not exist.
    { spec: '0 0 30 2 MON', from: '2021-01-01T00:00Z', next: ['2021-02-01', '2021-02-08'] },
    { spec: '0 0 29 2 MON', from: '2024-02-20T00:00Z', next: ['2024-02-26', '2024-02-29', '2025-02-03'] },
    // Day-of-week starts with *: AND, so Feb 29 that is a Sunday (every 28 years).
    { spec: '0 0 29 2 */7', from: '2021-01-01T00:00Z', next: ['2032-02-29', '2060-02-29'] },
    // A fifth Monday in February: Feb 29 on a Monday.
    { spec: '0 0 ? 2 1#5', from: '2021-01-01T00:00Z', next: ['2044-02-29', '2072-02-29'] },
  ];
  for (const c of rare) {
    test(`${c.spec} fires (rarely)`, () => {
      assert.equal(everFires(parseCron(c.spec)), true);
      assert.deepEqual(occurrences(c.spec, 'UTC', c.from, c.next.length), c.next.map((d) => `${d}T00:00:00+00:00`));
    });
  }
});

describe('February 29', () => {
  const cases: Array<{ spec: string; from: string; next: string[] }> = [
    { spec: '0 0 29 2 *', from: '2021-01-01T00:00Z', next: ['2024-02-29', '2028-02-29', '2032-02-29'] },
    // 2100 is not a leap year (divisible by 100, not by 400); 2000 is.
    { spec: '0 0 29 2 *', from: '2096-03-01T00:00Z', next: ['2104-02-29', '2108-02-29'] },
    { spec: '0 0 29 2 *', from: '1999-01-01T00:00Z', next: ['2000-02-29', '2004-02-29'] },
    { spec: '0 0 L 2 *', from: '2099-03-01T00:00Z', next: ['2100-02-28', '2101-02-28', '2102-02-28', '2103-02-28', '2104-02-29'] },
    { spec: '0 0 * 2 *', from: '2100-02-27T00:00Z', next: ['2100-02-28', '2101-02-01'] },
    { spec: '0 0 28-31 2 *', from: '2024-02-27T00:00Z', next: ['2024-02-28', '2024-02-29', '2025-02-28'] },
  ];
  for (const c of cases) {
    test(`${c.spec} after ${c.from}`, () => {
      assert.deepEqual(occurrences(c.spec, 'UTC', c.from, c.next.length), c.next.map((d) => `${d}T00:00:00+00:00`));
    });
  }
  test('Feb 29 in a zone with DST', () => {
    assert.deepEqual(occurrences('30 2 29 2 *', 'America/New_York', '2023-06-01T00:00', 2), ['2024-02-29T02:30:00-05:00', '2028-02-29T02:30:00-05:00']);
  });
});

describe('the examples from the issue, verbatim', () => {
  test('0 0/15 * * * * from 2012-07-09T14:45:00Z -> 15:00, 15:15, 15:30', () => {
    assert.deepEqual(occurrences('0 0/15 * * * *', 'UTC', '2012-07-09T14:45:00Z', 3), ['2012-07-09T15:00:00+00:00', '2012-07-09T15:15:00+00:00', '2012-07-09T15:30:00+00:00']);
  });
  test('30 2 * * * in America/New_York from 2021-03-13T12:00-05:00', () => {
    assert.deepEqual(occurrences('30 2 * * *', 'America/New_York', '2021-03-13T12:00-05:00', 2), ['2021-03-14T03:00:00-04:00', '2021-03-15T02:30:00-04:00']);
  });
  test('30 1 * * * in America/New_York from 2021-11-07T00:00-04:00', () => {
    assert.deepEqual(occurrences('30 1 * * *', 'America/New_York', '2021-11-07T00:00-04:00', 2), ['2021-11-07T01:30:00-04:00', '2021-11-08T01:30:00-05:00']);
  });
});

describe('DST', () => {
  test('fixed-time vs wildcard classification (seconds field ignored)', () => {
    const table: Array<[string, boolean]> = [
      ['30 2 * * *', true],
      ['0,30 1-3 * * *', true],
      ['*/30 1 * * *', false],
      ['30 * * * *', false],
      ['* 2 * * *', false],
      ['*/15 * * * *', false],
      ['* 30 2 * * *', true],
      ['*/10 30 2 * * *', true],
      ['0 * 2 * * *', false],
      ['@daily', true],
      ['@hourly', false],
    ];
    for (const [spec, fixed] of table) assert.equal(parseCron(spec).fixedTime, fixed, spec);
  });

  const cases: Array<{ zone: string; what: string; spec: string; from: string; next: string[] }> = [
    // ---- America/New_York: 2021-03-14 02:00 EST -> 03:00 EDT; 2021-11-07 02:00 EDT -> 01:00 EST.
    { zone: 'America/New_York', what: 'spring: fixed time in the gap runs once at the jump', spec: '30 2 * * *', from: '2021-03-14T00:00-05:00', next: ['2021-03-14T03:00:00-04:00', '2021-03-15T02:30:00-04:00'] },
    { zone: 'America/New_York', what: 'spring: two fixed times in the gap still run once', spec: '0,30 2 * * *', from: '2021-03-14T00:00-05:00', next: ['2021-03-14T03:00:00-04:00', '2021-03-15T02:00:00-04:00', '2021-03-15T02:30:00-04:00'] },
    { zone: 'America/New_York', what: 'spring: fixed times around the gap are unaffected', spec: '30 1,2,3 * * *', from: '2021-03-14T00:00-05:00', next: ['2021-03-14T01:30:00-05:00', '2021-03-14T03:00:00-04:00', '2021-03-14T03:30:00-04:00', '2021-03-15T01:30:00-04:00'] },
    { zone: 'America/New_York', what: 'spring: from the last second before the jump', spec: '30 2 * * *', from: '2021-03-14T01:59:59-05:00', next: ['2021-03-14T03:00:00-04:00', '2021-03-15T02:30:00-04:00'] },
    { zone: 'America/New_York', what: 'spring: from half a second before the jump', spec: '30 2 * * *', from: '2021-03-14T06:59:59.500Z', next: ['2021-03-14T03:00:00-04:00'] },
    { zone: 'America/New_York', what: 'spring: six fields, one second before the jump', spec: '59 59 1,2 * * *', from: '2021-03-14T01:59:59-05:00', next: ['2021-03-14T03:00:00-04:00', '2021-03-15T01:59:59-04:00'] },
    { zone: 'America/New_York', what: 'spring: from the jump itself, the gap run is past', spec: '30 2 * * *', from: '2021-03-14T03:00-04:00', next: ['2021-03-15T02:30:00-04:00'] },
    { zone: 'America/New_York', what: 'spring: */15 has no occurrences in the gap', spec: '*/15 * * * *', from: '2021-03-14T01:30-05:00', next: ['2021-03-14T01:45:00-05:00', '2021-03-14T03:00:00-04:00', '2021-03-14T03:15:00-04:00'] },
    { zone: 'America/New_York', what: 'spring: hourly has no occurrence in the gap', spec: '0 * * * *', from: '2021-03-14T00:00-05:00', next: ['2021-03-14T01:00:00-05:00', '2021-03-14T03:00:00-04:00', '2021-03-14T04:00:00-04:00'] },
    { zone: 'America/New_York', what: 'spring: 30 * is wildcard, 02:30 skipped', spec: '30 * * * *', from: '2021-03-14T01:00-05:00', next: ['2021-03-14T01:30:00-05:00', '2021-03-14T03:30:00-04:00'] },
    { zone: 'America/New_York', what: 'spring: */30 2 is wildcard, the whole day skipped', spec: '*/30 2 * * *', from: '2021-03-14T00:00-05:00', next: ['2021-03-15T02:00:00-04:00', '2021-03-15T02:30:00-04:00'] },
    { zone: 'America/New_York', what: 'fall: fixed time runs in the first pass only', spec: '30 1 * * *', from: '2021-11-07T00:00-04:00', next: ['2021-11-07T01:30:00-04:00', '2021-11-08T01:30:00-05:00'] },
    { zone: 'America/New_York', what: 'fall: */30 1 runs in both passes', spec: '*/30 1 * * *', from: '2021-11-07T00:00-04:00', next: ['2021-11-07T01:00:00-04:00', '2021-11-07T01:30:00-04:00', '2021-11-07T01:00:00-05:00', '2021-11-07T01:30:00-05:00', '2021-11-08T01:00:00-05:00'] },
    { zone: 'America/New_York', what: 'fall: 30 * runs in both passes', spec: '30 * * * *', from: '2021-11-07T00:00-04:00', next: ['2021-11-07T00:30:00-04:00', '2021-11-07T01:30:00-04:00', '2021-11-07T01:30:00-05:00', '2021-11-07T02:30:00-05:00'] },
    { zone: 'America/New_York', what: 'fall: */15 runs through both passes', spec: '*/15 * * * *', from: '2021-11-07T01:30-04:00', next: ['2021-11-07T01:45:00-04:00', '2021-11-07T01:00:00-05:00', '2021-11-07T01:15:00-05:00'] },
    { zone: 'America/New_York', what: 'fall: from inside the second pass, the fixed time waits a day', spec: '30 1 * * *', from: '2021-11-07T01:10-05:00', next: ['2021-11-08T01:30:00-05:00'] },
    { zone: 'America/New_York', what: 'fall: from the last second of the first pass', spec: '59 1 * * *', from: '2021-11-07T01:59:59-04:00', next: ['2021-11-08T01:59:00-05:00'] },
    { zone: 'America/New_York', what: 'fall: the hour after the repeat runs once', spec: '0 2 * * *', from: '2021-11-07T00:00-04:00', next: ['2021-11-07T02:00:00-05:00', '2021-11-08T02:00:00-05:00'] },
    { zone: 'America/New_York', what: 'fall: wall time input resolves to the first pass', spec: '*/30 1 * * *', from: '2021-11-07T01:00', next: ['2021-11-07T01:30:00-04:00', '2021-11-07T01:00:00-05:00'] },
    // ---- Europe/London: 2021-03-28 01:00 GMT -> 02:00 BST; 2021-10-31 02:00 BST -> 01:00 GMT.
    { zone: 'Europe/London', what: 'spring: fixed time in the gap runs once at the jump', spec: '30 1 * * *', from: '2021-03-27T12:00Z', next: ['2021-03-28T02:00:00+01:00', '2021-03-29T01:30:00+01:00'] },
    { zone: 'Europe/London', what: 'spring: */15 has no occurrences in the gap', spec: '*/15 * * * *', from: '2021-03-28T00:40Z', next: ['2021-03-28T00:45:00+00:00', '2021-03-28T02:00:00+01:00', '2021-03-28T02:15:00+01:00'] },
    { zone: 'Europe/London', what: 'spring: hourly has no occurrence in the gap', spec: '0 * * * *', from: '2021-03-27T23:30Z', next: ['2021-03-28T00:00:00+00:00', '2021-03-28T02:00:00+01:00'] },
    { zone: 'Europe/London', what: 'fall: fixed time runs in the first pass only', spec: '30 1 * * *', from: '2021-10-31T00:00+01:00', next: ['2021-10-31T01:30:00+01:00', '2021-11-01T01:30:00+00:00'] },
    { zone: 'Europe/London', what: 'fall: */30 1 runs in both passes', spec: '*/30 1 * * *', from: '2021-10-31T00:00+01:00', next: ['2021-10-31T01:00:00+01:00', '2021-10-31T01:30:00+01:00', '2021-10-31T01:00:00+00:00', '2021-10-31T01:30:00+00:00', '2021-11-01T01:00:00+00:00'] },
    { zone: 'Europe/London', what: 'fall: 30 * runs in both passes', spec: '30 * * * *', from: '2021-10-31T00:45+01:00', next: ['2021-10-31T01:30:00+01:00', '2021-10-31T01:30:00+00:00', '2021-10-31T02:30:00+00:00'] },
    // ---- Australia/Sydney: 2021-04-04 03:00 AEDT -> 02:00 AEST; 2021-10-03 02:00 AEST -> 03:00 AEDT.
    { zone: 'Australia/Sydney', what: 'spring: fixed time in the gap runs once at the jump', spec: '30 2 * * *', from: '2021-10-03T00:00+10:00', next: ['2021-10-03T03:00:00+11:00', '2021-10-04T02:30:00+11:00'] },
    { zone: 'Australia/Sydney', what: 'spring: */15 has no occurrences in the gap', spec: '*/15 * * * *', from: '2021-10-03T01:40+10:00', next: ['2021-10-03T01:45:00+10:00', '2021-10-03T03:00:00+11:00', '2021-10-03T03:15:00+11:00'] },
    { zone: 'Australia/Sydney', what: 'spring: hourly has no occurrence in the gap', spec: '0 * * * *', from: '2021-10-03T00:30+10:00', next: ['2021-10-03T01:00:00+10:00', '2021-10-03T03:00:00+11:00'] },
    { zone: 'Australia/Sydney', what: 'fall: fixed time runs in the first pass only', spec: '30 2 * * *', from: '2021-04-04T00:00+11:00', next: ['2021-04-04T02:30:00+11:00', '2021-04-05T02:30:00+10:00'] },
    { zone: 'Australia/Sydney', what: 'fall: */30 2 runs in both passes', spec: '*/30 2 * * *', from: '2021-04-04T00:00+11:00', next: ['2021-04-04T02:00:00+11:00', '2021-04-04T02:30:00+11:00', '2021-04-04T02:00:00+10:00', '2021-04-04T02:30:00+10:00', '2021-04-05T02:00:00+10:00'] },
    { zone: 'Australia/Sydney', what: 'fall: 30 * runs in both passes', spec: '30 * * * *', from: '2021-04-04T01:45+11:00', next: ['2021-04-04T02:30:00+11:00', '2021-04-04T02:30:00+10:00', '2021-04-04T03:30:00+10:00'] },
    { zone: 'Australia/Sydney', what: 'fall: 30 1 (before the repeat) is unaffected', spec: '30 1 * * *', from: '2021-04-03T12:00+11:00', next: ['2021-04-04T01:30:00+11:00', '2021-04-05T01:30:00+10:00'] },
    // ---- Australia/Lord_Howe: 30-minute shifts. 2021-10-03 02:00 -> 02:30; 2021-04-04 02:00 -> 01:30.
    { zone: 'Australia/Lord_Howe', what: 'spring (30 min): fixed time in the gap runs at the jump', spec: '15 2 * * *', from: '2021-10-03T00:00+10:30', next: ['2021-10-03T02:30:00+11:00', '2021-10-04T02:15:00+11:00'] },
    { zone: 'Australia/Lord_Howe', what: 'fall (30 min): */15 1 runs in both passes of 01:30-02:00', spec: '*/15 1 * * *', from: '2021-04-04T01:20+11:00', next: ['2021-04-04T01:30:00+11:00', '2021-04-04T01:45:00+11:00', '2021-04-04T01:30:00+10:30', '2021-04-04T01:45:00+10:30', '2021-04-05T01:00:00+10:30'] },
    { zone: 'Australia/Lord_Howe', what: 'fall (30 min): fixed time once', spec: '45 1 * * *', from: '2021-04-04T00:00+11:00', next: ['2021-04-04T01:45:00+11:00', '2021-04-05T01:45:00+10:30'] },
    // ---- Offset changes over 3 hours are not compensated: Samoa skipped 2011-12-30 entirely.
    { zone: 'Pacific/Apia', what: 'a skipped calendar day (24 h jump) is not compensated', spec: '0 12 * * *', from: '2011-12-29T00:00-10:00', next: ['2011-12-29T12:00:00-10:00', '2011-12-31T12:00:00+14:00'] },
  ];
  for (const c of cases) {
    test(`${c.zone}: ${c.what} (${c.spec} after ${c.from})`, () => {
      assert.deepEqual(occurrences(c.spec, c.zone, c.from, c.next.length), c.next);
    });
  }

  test('a fixed-time job runs exactly once on every day of a DST year (New York, London, Sydney)', () => {
    for (const [zone, spec] of [['America/New_York', '30 2 * * *'], ['Europe/London', '30 1 * * *'], ['Australia/Sydney', '30 2 * * *'], ['America/New_York', '30 1 * * *']] as const) {
      const days = occurrences(spec, zone, '2021-01-01T00:00', 365).map((iso) => iso.slice(0, 10));
      assert.equal(days.length, 365);
      assert.equal(new Set(days).size, 365, `${zone} ${spec}: one run per day`);
      assert.equal(days[0], '2021-01-01');
      assert.equal(days[364], '2021-12-31');
    }
  });

  test('an hourly wildcard job: 23 runs on the spring day, 25 on the fall day', () => {
    for (const [zone, spring, fall] of [['America/New_York', '2021-03-14', '2021-11-07'], ['Europe/London', '2021-03-28', '2021-10-31'], ['Australia/Sydney', '2021-10-03', '2021-04-04']] as const) {
      const count = (day: string): number => occurrences('0 * * * *', zone, `${day}T00:00`, 30).filter((iso) => iso.startsWith(day)).length + 1; // + the 00:00 start itself
      assert.equal(count(spring), 23, `${zone} ${spring}`);
      assert.equal(count(fall), 25, `${zone} ${fall}`);
    }
  });
});

describe('syntax errors name the field and point at the bad token', () => {
  const cases: Array<{ spec: string; index: number; message: RegExp }> = [
    { spec: '', index: 0, message: /^empty schedule$/ },
    { spec: '   ', index: 0, message: /^empty schedule$/ },
    { spec: '@often', index: 0, message: /unknown descriptor "@often": expected one of @yearly @annually @monthly @weekly @daily @midnight @hourly or @every DURATION/ },
    { spec: '  @reboot', index: 2, message: /unknown descriptor "@reboot": @reboot has no meaning/ },
    { spec: '@daily now', index: 7, message: /unexpected "now" after @daily/ },
    // ? outside the day fields.
    { spec: '? * * * *', index: 0, message: /^invalid minute field "\?": "\?" is only allowed in the day-of-month and day-of-week fields$/ },
    { spec: '0 ? * * *', index: 2, message: /^invalid hour field "\?"/ },
    { spec: '0 0 * ? *', index: 6, message: /^invalid month field "\?"/ },
    { spec: '? 0 0 * * *', index: 0, message: /^invalid second field "\?"/ },
    // Empty list items: the index of the empty item.
    { spec: '1,,2 * * * *', index: 2, message: /^invalid minute field "1,,2": empty list item$/ },
    { spec: '0 ,1 * * *', index: 2, message: /^invalid hour field ",1": empty list item$/ },
    { spec: '0 1, * * *', index: 4, message: /^invalid hour field "1,": empty list item$/ },
    // Quartz extensions out of range: the index of the list item.
    { spec: '0 0 L-31 * *', index: 4, message: /^invalid day-of-month field "L-31": "L-31": L-n needs n from 0 to 30$/ },
    { spec: '0 0 1,L-99 * *', index: 6, message: /^invalid day-of-month field "1,L-99": "L-99": L-n needs n from 0 to 30$/ },
    { spec: '0 0 0W * *', index: 4, message: /^invalid day-of-month field "0W": "0W": nW needs a day from 1 to 31$/ },
    { spec: '0 0 32W * *', index: 4, message: /"32W": nW needs a day from 1 to 31$/ },
    { spec: '0 0 * * L', index: 8, message: /^invalid day-of-week field "L": "L" alone is ambiguous in day-of-week/ },
    { spec: '0 0 * * 1,L', index: 10, message: /^invalid day-of-week field "1,L": "L" alone is ambiguous/ },
    { spec: '0 0 * * 8L', index: 8, message: /^invalid day-of-week field "8L": 8 is out of range \(0-7\)$/ },
    { spec: '0 0 * * XYZL', index: 8, message: /^invalid day-of-week field "XYZL": unknown name "XYZ" \(expected SUN-SAT or 0-7\)$/ },
    { spec: '0 0 * * 1#6', index: 8, message: /^invalid day-of-week field "1#6": "1#6": the week number after # must be 1 to 5$/ },
    { spec: '0 0 * * 1#0', index: 8, message: /the week number after # must be 1 to 5$/ },
    { spec: '0 0 * * 9#1', index: 8, message: /^invalid day-of-week field "9#1": 9 is out of range \(0-7\)$/ },
    { spec: '0 0 * * MON,FOO#2', index: 12, message: /^invalid day-of-week field "MON,FOO#2": unknown name "FOO"/ },
    // L, W, # where they don't belong.
    { spec: '0 0 1L * *', index: 4, message: /^invalid day-of-month field "1L": "1L" is not a day of the month \(the extensions here are L, L-n, LW and nW\)$/ },
    { spec: '0 0 1#2 * *', index: 4, message: /^invalid day-of-month field "1#2": "1#2" is not a day of the month/ },
    { spec: '5L * * * *', index: 0, message: /^invalid minute field "5L": "5L": L, W and # are only allowed in the day-of-month and day-of-week fields$/ },
    { spec: '0 1W * * *', index: 2, message: /^invalid hour field "1W": "1W": L, W and # are only allowed/ },
    { spec: '0 0 1#1 * * *', index: 4, message: /^invalid hour field "1#1": "1#1": L, W and # are only allowed/ },
    { spec: '0 0 * * 1W', index: 8, message: /^invalid day-of-week field "1W": unknown name "1W"/ },
    // Steps.
    { spec: '*/2/3 * * * *', index: 0, message: /^invalid minute field "\*\/2\/3": "\*\/2\/3": more than one "\/"$/ },
    { spec: '*/x * * * *', index: 0, message: /^invalid minute field "\*\/x": "\*\/x": step "x" is not a number$/ },
    { spec: '0 */ * * *', index: 2, message: /^invalid hour field "\*\/": "\*\/": step "" is not a number$/ },
    { spec: '0 0 */-1 * *', index: 4, message: /step "-1" is not a number$/ },
    { spec: '*/0 * * * *', index: 0, message: /^invalid minute field "\*\/0": "\*\/0": step must be at least 1$/ },
    { spec: '*/60 * * * *', index: 0, message: /^invalid minute field "\*\/60": "\*\/60": step 60 is larger than the field's range \(0-59\)$/ },
    { spec: '0 */24 * * *', index: 2, message: /^invalid hour field "\*\/24": "\*\/24": step 24 is larger than the field's range \(0-23\)$/ },
    { spec: '0 0 * */13 *', index: 6, message: /^invalid month field "\*\/13"/ },
    { spec: '0 0 * * */8', index: 8, message: /^invalid day-of-week field "\*\/8": "\*\/8": step 8 is larger than the field's range \(0-7\)$/ },
    { spec: '0 0 1,*/32 * *', index: 6, message: /^invalid day-of-month field "1,\*\/32": "\*\/32": step 32 is larger than the field's range \(1-31\)$/ },
    // Backwards ranges (5-0 and MON-SUN are the legal day-of-week wraps).
    { spec: '30-20 * * * *', index: 0, message: /^invalid minute field "30-20": "30-20": range 30-20 runs backwards$/ },
    { spec: '0 0 * DEC-JAN *', index: 6, message: /^invalid month field "DEC-JAN": "DEC-JAN": range 12-1 runs backwards$/ },
    { spec: '0 0 * * SAT-MON', index: 8, message: /^invalid day-of-week field "SAT-MON": "SAT-MON": range 6-1 runs backwards$/ },
    { spec: '0 0 * * 7-1', index: 8, message: /range 7-1 runs backwards$/ },
    { spec: '0 0 * * 1-5,0-0,6-1', index: 16, message: /^invalid day-of-week field "1-5,0-0,6-1": "6-1": range 6-1 runs backwards$/ },
    // Values out of range.
    { spec: '60 * * * *', index: 0, message: /^invalid minute field "60": 60 is out of range \(0-59\)$/ },
    { spec: '0 24 * * *', index: 2, message: /^invalid hour field "24": 24 is out of range \(0-23\)$/ },
    { spec: '0 0 0 * *', index: 4, message: /^invalid day-of-month field "0": 0 is out of range \(1-31\)$/ },
    { spec: '0 0 32 * *', index: 4, message: /^invalid day-of-month field "32": 32 is out of range \(1-31\)$/ },
    { spec: '0 0 * 0 *', index: 6, message: /^invalid month field "0": 0 is out of range \(1-12\)$/ },
    { spec: '0 0 * 13 *', index: 6, message: /^invalid month field "13": 13 is out of range \(1-12\)$/ },
    { spec: '0 0 * * 8', index: 8, message: /^invalid day-of-week field "8": 8 is out of range \(0-7\)$/ },
    { spec: '60 0 0 * * *', index: 0, message: /^invalid second field "60": 60 is out of range \(0-59\)$/ },
    { spec: '0 60 0 * * *', index: 2, message: /^invalid minute field "60"/ },
    { spec: '0 1-60 * * *', index: 2, message: /^invalid hour field "1-60": 60 is out of range \(0-23\)$/ },
    { spec: '0 1,2,99 * * *', index: 6, message: /^invalid hour field "1,2,99": 99 is out of range \(0-23\)$/ },
    { spec: '0 0 * * 2/9', index: 8, message: /step 9 is larger than the field's range \(0-7\)$/ },
    // Names: unknown, or where names aren't allowed.
    { spec: '0 0 * FOO *', index: 6, message: /^invalid month field "FOO": unknown name "FOO" \(expected JAN-DEC or 1-12\)$/ },
    { spec: '0 0 * JANUARY *', index: 6, message: /unknown name "JANUARY" \(expected JAN-DEC or 1-12\)$/ },
    { spec: '0 0 * * MONDAY', index: 8, message: /^invalid day-of-week field "MONDAY": unknown name "MONDAY" \(expected SUN-SAT or 0-7\)$/ },
    { spec: 'MON * * * *', index: 0, message: /^invalid minute field "MON": "MON" is not a number$/ },
    { spec: '0 0 JAN * *', index: 4, message: /^invalid day-of-month field "JAN": "JAN" is not a number$/ },
    { spec: '0 x * * *', index: 2, message: /^invalid hour field "x": "x" is not a number$/ },
    { spec: '1.5 * * * *', index: 0, message: /^invalid minute field "1.5": "1.5" is not a number$/ },
    { spec: '-5 * * * *', index: 0, message: /^invalid minute field "-5": "-5" is not a number$/ },
    { spec: '*-5 * * * *', index: 0, message: /^invalid minute field "\*-5": "\*" is not a number$/ },
    // Missing range ends.
    { spec: '1- * * * *', index: 0, message: /^invalid minute field "1-": missing value$/ },
    { spec: '0 0 * 1-/2 *', index: 6, message: /^invalid month field "1-\/2": missing value$/ },
    { spec: '0 0 * * MON-', index: 8, message: /^invalid day-of-week field "MON-": missing value$/ },
  ];
  for (const c of cases) {
    test(JSON.stringify(c.spec), () => {
      assert.throws(() => parseCron(c.spec), (e: unknown) => {
        assert.ok(e instanceof SpecSyntaxError, `SpecSyntaxError, got ${String(e)}`);
        assert.match(e.message, c.message);
        assert.equal(e.index, c.index, `index of the bad token in ${JSON.stringify(c.spec)} (${e.message})`);
        return true;
      });
    });
  }
});

describe('@every in parseScheduleExpr', () => {
  const ok: Array<[string, number]> = [
    ['@every 1d', 86_400_000],
    ['@every 1h30m', 5_400_000],
    ['@every 90s', 90_000],
    ['@every 500ms', 500],
    ['  @EVERY   15m  ', 900_000],
  ];
  for (const [text, ms] of ok) {
    test(text, () => {
      const expr = parseScheduleExpr(text);
      assert.equal(expr.kind, 'every');
      if (expr.kind === 'every') {
        assert.equal(expr.everyMs, ms);
        assert.equal(expr.source, text.trim());
      }
    });
  }
  const bad: Array<[text: string, index: number, message: RegExp]> = [
    ['@every', 6, /^@every needs a duration/],
    ['@every   ', 9, /^@every needs a duration/],
    ['@every 1h now', 10, /^unexpected "now" after @every 1h$/],
    ['@every 1x', 7, /^invalid duration "1x": expected a number followed by ms, s, m, h or d at "1x"/],
    ['@every 1h3', 9, /at "3"/],
    ['  @every 1h30q', 11, /at "30q"/],
    ['@every 0s', 7, /must be greater than zero/],
  ];
  for (const [text, index, message] of bad) {
    test(`${JSON.stringify(text)} is an error at ${index}`, () => {
      assert.throws(() => parseScheduleExpr(text), (e: unknown) => {
        assert.ok(e instanceof SpecSyntaxError);
        assert.match(e.message, message);
        assert.equal(e.index, index, e.message);
        return true;
      });
    });
  }
});
