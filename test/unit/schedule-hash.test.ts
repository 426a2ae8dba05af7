/**
 * `H` in cron fields (a value per job name from the stable hash), and the day-of-week spellings of
 * "the last such weekday of the month" (5L, FRIL, 5#L, FRI#L). Values for a few names are pinned,
 * so a change of the hash (which would move every job's times) fails here.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Cron } from 'croner';
import { dayMatches } from '../../src/schedule/cron-next.js';
import { parseCron, SpecSyntaxError, type CronSpec } from '../../src/schedule/cron-spec.js';
import { formatInstant } from '../../src/schedule/iso.js';
import { cronSchedule, parseScheduleExpr } from '../../src/schedule/schedule.js';
import { stableHash } from '../../src/schedule/stable-hash.js';

const set = (values: boolean[], lo: number, hi: number): number[] => {
  const out: number[] = [];
  for (let v = lo; v <= hi; v++) if (values[v]) out.push(v);
  return out;
};
const fields = (spec: CronSpec) => ({
  s: spec.seconds,
  m: spec.minutes,
  h: spec.hours,
  dom: set(spec.dom.days, 1, 31),
  mon: set(spec.months, 1, 12),
  dow: set(spec.dow.days, 0, 6),
});

describe('stable hash (FNV-1a 32-bit, then the murmur3 finalizer)', () => {
  const pinned: Array<[string, number]> = [
    ['', 2872998923],
    ['a', 444641715],
    ['backup', 676536788],
    ['backup:minute', 2705352053],
    ['nightly-report', 1368865348],
    ['Zürich-sync', 3171586276], // UTF-8 bytes, not UTF-16 units
  ];
  for (const [text, hash] of pinned) test(JSON.stringify(text), () => assert.equal(stableHash(text), hash));
});

describe('H: one value per job name, the same every time', () => {
  // H H H H H H: seconds, minute, hour, day of month (1-28), month, day of week (0-6).
  const pinned: Array<{ name: string; s: number; m: number; h: number; dom: number; mon: number; dow: number }> = [
    { name: 'backup', s: 45, m: 53, h: 16, dom: 18, mon: 11, dow: 6 },
    { name: 'nightly-report', s: 18, m: 36, h: 23, dom: 2, mon: 4, dow: 6 },
    { name: 'clean', s: 22, m: 27, h: 15, dom: 6, mon: 4, dow: 2 },
    { name: 'heartbeat', s: 39, m: 2, h: 13, dom: 28, mon: 1, dow: 0 },
  ];
  for (const p of pinned) {
    test(`${p.name}: every field`, () => {
      assert.deepEqual(fields(parseCron('H H H H H H', p.name)), { s: [p.s], m: [p.m], h: [p.h], dom: [p.dom], mon: [p.mon], dow: [p.dow] });
    });
  }

  test('the five-field form hashes the same values as the six-field one', () => {
    const five = parseCron('H H H H H', 'backup');
    assert.deepEqual(fields(five), { s: [0], m: [53], h: [16], dom: [18], mon: [11], dow: [6] });
  });

  test('each field has its own value (the hash covers the field name), so H H is not a diagonal', () => {
    const pairs = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const spec = parseCron('H H * * *', `job-${i}`);
      pairs.add(`${spec.minutes[0]}:${spec.hours[0]}`);
    }
    // 2000 names over 1440 (minute, hour) pairs: a hash shared by both fields would give at most 120.
    assert.ok(pairs.size > 900, `${pairs.size} distinct times`);
  });

  test('values stay in each field\'s range and spread over it, over many names', () => {
    const seen = { s: new Set<number>(), m: new Set<number>(), h: new Set<number>(), dom: new Set<number>(), mon: new Set<number>(), dow: new Set<number>() };
    for (let i = 0; i < 3000; i++) {
      const f = fields(parseCron('H H H H H H', `svc.${i}`));
      for (const key of Object.keys(seen) as Array<keyof typeof seen>) {
        assert.equal(f[key].length, 1, `${key} of svc.${i}: one value`);
        seen[key].add(f[key][0]!);
      }
    }
    const span = (s: Set<number>): [number, number, number] => [Math.min(...s), Math.max(...s), s.size];
    assert.deepEqual(span(seen.s), [0, 59, 60]);
    assert.deepEqual(span(seen.m), [0, 59, 60]);
    assert.deepEqual(span(seen.h), [0, 23, 24]);
    assert.deepEqual(span(seen.dom), [1, 28, 28], 'day of month stops at 28: every month has it');
    assert.deepEqual(span(seen.mon), [1, 12, 12]);
    assert.deepEqual(span(seen.dow), [0, 6, 7]);
  });

  test('different names get different values; lower-case h is the same as H', () => {
    assert.notDeepEqual(parseCron('H H * * *', 'backup').minutes, parseCron('H H * * *', 'clean').minutes);
    assert.deepEqual(fields(parseCron('h h h h h h', 'backup')), fields(parseCron('H H H H H H', 'backup')));
  });
});

describe('H/n, H(a-b), H(a-b)/n', () => {
  const cases: Array<{ spec: string; name: string; m?: number[]; h?: number[]; dom?: number[]; dow?: number[] }> = [
    // H/15 starts at H mod 15 (backup's minute hash mod 60 is 53: 53 mod 15 = 8).
    { spec: 'H/15 * * * *', name: 'backup', m: [8, 23, 38, 53] },
    { spec: 'H/15 * * * *', name: 'nightly-report', m: [6, 21, 36, 51] },
    { spec: 'H/15 * * * *', name: 'clean', m: [12, 27, 42, 57] },
    { spec: 'H/20 * * * *', name: 'backup', m: [13, 33, 53] },
    // A range: Jenkins' H(0-29) is a value in 0..29.
    { spec: 'H(0-29) * * * *', name: 'backup', m: [23] },
    { spec: 'H(0-29) * * * *', name: 'nightly-report', m: [6] },
    { spec: 'H(0-29)/10 * * * *', name: 'backup', m: [3, 13, 23] },
    { spec: 'H(0-29)/10 * * * *', name: 'clean', m: [7, 17, 27] },
    { spec: 'H(30-59) * * * *', name: 'backup', m: [53] },
    { spec: '0 H(9-17) * * *', name: 'backup', h: [10] }, // 9 + (hash mod 9)
    { spec: '0 H/6 * * *', name: 'backup', h: [4, 10, 16, 22] },
    // Day fields: H/n in day of month steps to 31 like */n; day-of-week ranges take names.
    { spec: '0 0 H/10 * *', name: 'backup', dom: [8, 18, 28] },
    { spec: '0 0 * * H(MON-FRI)', name: 'backup', dow: [1] },
    { spec: '0 0 * * H(1-5)', name: 'backup', dow: [1] },
    // Lists mix H and plain values.
    { spec: 'H,0 * * * *', name: 'backup', m: [0, 53] },
  ];
  for (const c of cases) {
    test(`${c.spec} for ${c.name}`, () => {
      const f = fields(parseCron(c.spec, c.name));
      if (c.m) assert.deepEqual(f.m, c.m, 'minutes');
      if (c.h) assert.deepEqual(f.h, c.h, 'hours');
      if (c.dom) assert.deepEqual(f.dom, c.dom, 'days of month');
      if (c.dow) assert.deepEqual(f.dow, c.dow, 'days of week');
    });
  }

  test('H/n always starts within the first step and keeps the step, for any name', () => {
    for (let i = 0; i < 500; i++) {
      const m = parseCron('H/15 * * * *', `n${i}`).minutes;
      assert.equal(m.length, 4);
      assert.ok(m[0]! < 15);
      assert.deepEqual(m, [m[0]!, m[0]! + 15, m[0]! + 30, m[0]! + 45]);
      const r = parseCron('H(0-29) * * * *', `n${i}`).minutes;
      assert.ok(r.length === 1 && r[0]! >= 0 && r[0]! <= 29);
      assert.equal(parseCron('H(0-29)/10 * * * *', `n${i}`).minutes.every((v) => v <= 29), true);
    }
  });

  test('a step larger than its range still gives one value inside the range', () => {
    for (let i = 0; i < 200; i++) {
      const m = parseCron('H(0-9)/15 * * * *', `n${i}`).minutes;
      assert.equal(m.length, 1);
      assert.ok(m[0]! <= 9);
    }
  });
});

describe('H and the DST and day rules', () => {
  test('an H minute and hour is fixed-time; H/n counts as */n (a wildcard)', () => {
    const table: Array<[string, boolean]> = [
      ['H H * * *', true],
      ['H(0-29) H(1-3) * * *', true],
      ['H 2 * * *', true],
      ['H/15 2 * * *', false],
      ['H/15 * * * *', false],
      ['0 H/2 * * *', false],
      ['H * * * *', false],
    ];
    for (const [spec, fixed] of table) assert.equal(parseCron(spec, 'backup').fixedTime, fixed, spec);
  });

  test('an H hour inside a spring-forward gap runs once at the jump, as a fixed time does', () => {
    // H(2-2) is always 2; nightly-report's minute is 36: 02:36 does not exist on 2026-03-08 in New York.
    const expr = parseScheduleExpr('H H(2-2) * * *', 'nightly-report');
    assert.equal(expr.kind, 'cron');
    if (expr.kind !== 'cron') return;
    const schedule = cronSchedule(expr, 'America/New_York');
    const from = Date.parse('2026-03-07T12:00:00-05:00');
    const first = schedule.next(from)!;
    const second = schedule.next(first)!;
    assert.deepEqual([formatInstant(first, 'America/New_York'), formatInstant(second, 'America/New_York')], ['2026-03-08T03:00:00-04:00', '2026-03-09T02:36:00-04:00']);
  });

  test('H in a day field is not a star for the day-of-month / day-of-week OR rule; H/n is', () => {
    assert.equal(parseCron('0 0 H * MON', 'backup').dayOr, true);
    assert.equal(parseCron('0 0 H/10 * MON', 'backup').dayOr, false);
  });
});

describe('H errors', () => {
  const cases: Array<{ spec: string; seed?: string; message: RegExp; index: number }> = [
    { spec: 'H * * * *', message: /^invalid minute field "H": "H": H picks a value from the job's name, and there is none here$/, index: 0 },
    { spec: '0 H( * * *', seed: 'x', message: /"H\(": H is written H, H\/n, H\(a-b\) or H\(a-b\)\/n$/, index: 2 },
    { spec: 'HH * * * *', seed: 'x', message: /H is written/, index: 0 },
    { spec: 'H(5) * * * *', seed: 'x', message: /H is written/, index: 0 },
    { spec: 'H/0 * * * *', seed: 'x', message: /step must be at least 1/, index: 0 },
    { spec: 'H/x * * * *', seed: 'x', message: /step "x" is not a number/, index: 0 },
    { spec: 'H/61 * * * *', seed: 'x', message: /step 61 is larger than the field's range/, index: 0 },
    { spec: 'H(30-10) * * * *', seed: 'x', message: /range 30-10 runs backwards/, index: 0 },
    { spec: 'H(0-99) * * * *', seed: 'x', message: /99 is out of range \(0-59\)/, index: 0 },
    { spec: '0 0 * * H(MON-XYZ)', seed: 'x', message: /unknown name "XYZ"/, index: 8 },
    { spec: '0 0,H(1-2 * * *', seed: 'x', message: /H is written/, index: 4 }, // at the list item
  ];
  for (const c of cases) {
    test(`${c.spec}${c.seed === undefined ? ' without a name' : ''}`, () => {
      assert.throws(() => parseCron(c.spec, c.seed), (e: unknown) => {
        assert.ok(e instanceof SpecSyntaxError);
        assert.match(e.message, c.message);
        assert.equal(e.index, c.index);
        return true;
      });
    });
  }
});

describe('the last such weekday of the month: 5L, FRIL, 5#L, FRI#L, 7#L', () => {
  const spellings = ['5L', 'FRIL', 'fril', '5#L', 'FRI#L', 'fri#l', 'Fri#L'];
  for (const dow of spellings) {
    test(`${dow} is the last Friday`, () => {
      const spec = parseCron(`0 0 * * ${dow}`);
      assert.deepEqual(spec.dow.last, [5]);
      assert.deepEqual(set(spec.dow.days, 0, 6), []);
    });
  }

  test('7#L and 0#L are the last Sunday; SUN#L too', () => {
    for (const dow of ['7#L', '0#L', 'SUN#L', '7L']) assert.deepEqual(parseCron(`0 0 * * ${dow}`).dow.last, [0], dow);
  });

  test('FRI#L matches the last Friday of each month only (2026)', () => {
    const spec = parseCron('0 0 * * FRI#L');
    const hits: string[] = [];
    for (let m = 1; m <= 12; m++) {
      for (let d = 1; d <= 31; d++) if (new Date(Date.UTC(2026, m - 1, d)).getUTCMonth() === m - 1 && dayMatches(spec, 2026, m, d)) hits.push(`${m}-${d}`);
    }
    assert.deepEqual(hits, ['1-30', '2-27', '3-27', '4-24', '5-29', '6-26', '7-31', '8-28', '9-25', '10-30', '11-27', '12-25']);
  });

  test('the same dates as croner, which accepts 5#L and FRI#L (cron-parser does not)', () => {
    for (const dow of ['5#L', 'FRI#L', 'MON#L', '0#L', '6L']) {
      const expr = parseScheduleExpr(`0 12 * * ${dow}`);
      assert.equal(expr.kind, 'cron');
      if (expr.kind !== 'cron') continue;
      const schedule = cronSchedule(expr, 'UTC');
      const ours: string[] = [];
      for (let t: number | null = Date.UTC(2026, 0, 1); ours.length < 14 && t !== null; ) {
        t = schedule.next(t);
        if (t !== null) ours.push(new Date(t).toISOString());
      }
      const theirs = new Cron(`0 12 * * ${dow}`, { timezone: 'UTC', legacyMode: true }).nextRuns(14, new Date(Date.UTC(2026, 0, 1))).map((d) => d.toISOString());
      assert.deepEqual(ours, theirs, dow);
    }
  });

  test('#L next to # weeks and plain days in one list', () => {
    const spec = parseCron('0 0 * * MON#1,FRI#L,3');
    assert.deepEqual(spec.dow.nth, [[1, 1]]);
    assert.deepEqual(spec.dow.last, [5]);
    assert.deepEqual(set(spec.dow.days, 0, 6), [3]);
  });

  test('L alone and a bad week are still errors', () => {
    assert.throws(() => parseCron('0 0 * * L'), /"L" alone is ambiguous in day-of-week; use SAT, or nL or n#L/);
    assert.throws(() => parseCron('0 0 * * FRI#6'), /the week number after # must be 1 to 5/);
    assert.throws(() => parseCron('0 0 * * FRI#X'), /unknown name/);
  });
});
