import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalZone, fromWall, isValidZone, nextTransition, offsetAt, previousTransition, toWall } from '../../src/schedule/zone.js';

const H = 3_600_000;
const M = 60_000;
const utc = (text: string): number => Date.parse(text);

describe('isValidZone / canonicalZone', () => {
  const valid: Array<[string, string]> = [
    ['UTC', 'UTC'],
    ['utc', 'UTC'],
    ['Etc/UTC', 'UTC'],
    ['America/New_York', 'America/New_York'],
    ['america/new_york', 'America/New_York'],
    ['Europe/London', 'Europe/London'],
    ['Australia/Sydney', 'Australia/Sydney'],
  ];
  for (const [zone, canonical] of valid) {
    test(`${zone} -> ${canonical}`, () => {
      assert.equal(isValidZone(zone), true);
      assert.equal(canonicalZone(zone), canonical);
    });
  }
  test('a link name resolves to a zone with the same offsets (ICU may prefer the old name: Asia/Kolkata -> Asia/Calcutta)', () => {
    assert.equal(isValidZone('Asia/Kolkata'), true);
    const canonical = canonicalZone('Asia/Kolkata');
    assert.ok(['Asia/Kolkata', 'Asia/Calcutta'].includes(canonical), canonical);
    assert.equal(offsetAt(canonical, Date.UTC(2021, 0, 1)), offsetAt('Asia/Kolkata', Date.UTC(2021, 0, 1)));
  });
  for (const zone of ['', 'Mars/Olympus_Mons', 'America/NewYork', 'EST5EDT6', '+25:00', 'New York']) {
    test(`${JSON.stringify(zone)} is not a zone`, () => assert.equal(isValidZone(zone), false));
  }
});

describe('offsetAt', () => {
  const cases: Array<[zone: string, at: string, offset: number]> = [
    ['UTC', '2021-06-01T00:00:00Z', 0],
    ['Etc/UTC', '2021-06-01T00:00:00Z', 0],
    ['America/New_York', '2021-01-15T12:00:00Z', -5 * H],
    ['America/New_York', '2021-07-15T12:00:00Z', -4 * H],
    ['America/New_York', '2021-03-14T06:59:59Z', -5 * H],
    ['America/New_York', '2021-03-14T07:00:00Z', -4 * H],
    ['America/New_York', '2021-11-07T05:59:59Z', -4 * H],
    ['America/New_York', '2021-11-07T06:00:00Z', -5 * H],
    ['Europe/London', '2021-01-15T12:00:00Z', 0],
    ['Europe/London', '2021-03-28T00:59:59Z', 0],
    ['Europe/London', '2021-03-28T01:00:00Z', H],
    ['Europe/London', '2021-10-31T00:59:59Z', H],
    ['Europe/London', '2021-10-31T01:00:00Z', 0],
    ['Australia/Sydney', '2021-01-15T12:00:00Z', 11 * H],
    ['Australia/Sydney', '2021-04-03T15:59:59Z', 11 * H],
    ['Australia/Sydney', '2021-04-03T16:00:00Z', 10 * H],
    ['Australia/Sydney', '2021-10-02T15:59:59Z', 10 * H],
    ['Australia/Sydney', '2021-10-02T16:00:00Z', 11 * H],
    ['Asia/Kolkata', '2021-06-01T00:00:00Z', 5.5 * H],
    ['Asia/Kathmandu', '2021-06-01T00:00:00Z', 5 * H + 45 * M],
    ['Australia/Lord_Howe', '2021-07-01T00:00:00Z', 10.5 * H],
    ['Australia/Lord_Howe', '2021-01-01T00:00:00Z', 11 * H],
    // Samoa moved across the date line: 2011-12-29 was -10, 2011-12-31 was +14.
    ['Pacific/Apia', '2011-12-30T09:59:59Z', -10 * H],
    ['Pacific/Apia', '2011-12-30T10:00:00Z', 14 * H],
    // Year boundaries.
    ['America/New_York', '2021-12-31T23:59:59.999Z', -5 * H],
    ['Australia/Sydney', '2022-01-01T00:00:00Z', 11 * H],
  ];
  for (const [zone, at, offset] of cases) {
    test(`${zone} at ${at}`, () => assert.equal(offsetAt(zone, utc(at)), offset));
  }
});

describe('transitions', () => {
  const next: Array<[zone: string, after: string, at: string, from: number, to: number]> = [
    ['America/New_York', '2021-01-01T00:00:00Z', '2021-03-14T07:00:00Z', -5 * H, -4 * H],
    ['America/New_York', '2021-03-14T07:00:00Z', '2021-11-07T06:00:00Z', -4 * H, -5 * H],
    ['America/New_York', '2021-03-14T06:59:59Z', '2021-03-14T07:00:00Z', -5 * H, -4 * H],
    ['America/New_York', '2021-11-08T00:00:00Z', '2022-03-13T07:00:00Z', -5 * H, -4 * H],
    ['Europe/London', '2021-01-01T00:00:00Z', '2021-03-28T01:00:00Z', 0, H],
    ['Europe/London', '2021-04-01T00:00:00Z', '2021-10-31T01:00:00Z', H, 0],
    ['Australia/Sydney', '2021-01-01T00:00:00Z', '2021-04-03T16:00:00Z', 11 * H, 10 * H],
    ['Australia/Sydney', '2021-05-01T00:00:00Z', '2021-10-02T16:00:00Z', 10 * H, 11 * H],
    ['Australia/Lord_Howe', '2021-05-01T00:00:00Z', '2021-10-02T15:30:00Z', 10.5 * H, 11 * H],
  ];
  for (const [zone, after, at, from, to] of next) {
    test(`next ${zone} after ${after}`, () => {
      assert.deepEqual(nextTransition(zone, utc(after)), { at: utc(at), from, to });
    });
  }

  test('nextTransition is strictly after, previousTransition at or before', () => {
    const at = utc('2021-03-14T07:00:00Z');
    assert.equal(nextTransition('America/New_York', at)?.at, utc('2021-11-07T06:00:00Z'));
    assert.equal(previousTransition('America/New_York', at)?.at, at);
    assert.equal(previousTransition('America/New_York', at - 1)?.at, utc('2020-11-01T06:00:00Z'));
    assert.equal(previousTransition('America/New_York', at, 0)?.at, at);
    assert.equal(previousTransition('America/New_York', at + 1000, 0), null);
  });

  test('horizons', () => {
    assert.equal(nextTransition('America/New_York', utc('2021-01-01T00:00:00Z'), 24 * H), null);
    assert.equal(nextTransition('America/New_York', utc('2021-03-13T07:00:00Z'), 24 * H)?.at, utc('2021-03-14T07:00:00Z'));
    assert.equal(previousTransition('America/New_York', utc('2021-03-15T07:00:00Z'), 24 * H)?.at, utc('2021-03-14T07:00:00Z'));
    assert.equal(previousTransition('America/New_York', utc('2021-03-15T07:00:01Z'), 24 * H), null);
  });

  test('zones without DST have no transitions', () => {
    for (const zone of ['UTC', 'Asia/Kolkata', 'Asia/Tokyo']) {
      assert.equal(nextTransition(zone, utc('2021-01-01T00:00:00Z')), null, zone);
      assert.equal(previousTransition(zone, utc('2021-12-01T00:00:00Z')), null, zone);
    }
  });

  test('two transitions a year in New York, 2000-2030', () => {
    let count = 0;
    for (let tr = nextTransition('America/New_York', utc('2000-01-01T00:00:00Z')); tr && tr.at < utc('2031-01-01T00:00:00Z'); tr = nextTransition('America/New_York', tr.at)) count++;
    assert.equal(count, 62);
  });
});

describe('toWall / fromWall', () => {
  const wall = (text: string): number => Date.parse(`${text}Z`);
  const cases: Array<[zone: string, wall: string, instant: string, why: string]> = [
    ['UTC', '2021-06-01T12:00:00', '2021-06-01T12:00:00Z', 'UTC'],
    ['America/New_York', '2021-06-01T12:00:00', '2021-06-01T16:00:00Z', 'summer'],
    ['America/New_York', '2021-01-01T12:00:00', '2021-01-01T17:00:00Z', 'winter'],
    ['America/New_York', '2021-03-14T01:59:59', '2021-03-14T06:59:59Z', 'just before the gap'],
    ['America/New_York', '2021-03-14T02:00:00', '2021-03-14T07:00:00Z', 'gap start -> the jump'],
    ['America/New_York', '2021-03-14T02:30:00', '2021-03-14T07:00:00Z', 'in the gap -> the jump'],
    ['America/New_York', '2021-03-14T02:59:59', '2021-03-14T07:00:00Z', 'gap end -> the jump'],
    ['America/New_York', '2021-03-14T03:00:00', '2021-03-14T07:00:00Z', 'just after the gap'],
    ['America/New_York', '2021-11-07T00:59:59', '2021-11-07T04:59:59Z', 'before the overlap'],
    ['America/New_York', '2021-11-07T01:00:00', '2021-11-07T05:00:00Z', 'overlap start -> first pass'],
    ['America/New_York', '2021-11-07T01:30:00', '2021-11-07T05:30:00Z', 'in the overlap -> first pass'],
    ['America/New_York', '2021-11-07T01:59:59', '2021-11-07T05:59:59Z', 'overlap end -> first pass'],
    ['America/New_York', '2021-11-07T02:00:00', '2021-11-07T07:00:00Z', 'after the overlap'],
    ['Europe/London', '2021-03-28T01:30:00', '2021-03-28T01:00:00Z', 'gap'],
    ['Europe/London', '2021-10-31T01:30:00', '2021-10-31T00:30:00Z', 'overlap'],
    ['Australia/Sydney', '2021-10-03T02:30:00', '2021-10-02T16:00:00Z', 'gap'],
    ['Australia/Sydney', '2021-04-04T02:30:00', '2021-04-03T15:30:00Z', 'overlap'],
    ['Australia/Lord_Howe', '2021-10-03T02:15:00', '2021-10-02T15:30:00Z', '30-minute gap'],
    ['Australia/Lord_Howe', '2021-04-04T01:45:00', '2021-04-03T14:45:00Z', '30-minute overlap'],
    ['Pacific/Apia', '2011-12-30T12:00:00', '2011-12-30T10:00:00Z', 'a skipped day -> the jump'],
  ];
  for (const [zone, w, instant, why] of cases) {
    test(`${zone} ${w} (${why})`, () => {
      assert.equal(new Date(fromWall(zone, wall(w))).toISOString(), new Date(instant).toISOString());
    });
  }

  test('toWall and fromWall round-trip outside gaps and overlaps', () => {
    for (const zone of ['America/New_York', 'Europe/London', 'Australia/Sydney', 'Asia/Kolkata']) {
      for (let t = utc('2021-01-01T00:00:00Z'); t < utc('2022-01-01T00:00:00Z'); t += 7 * H + 13 * M) {
        const w = toWall(zone, t);
        assert.equal(w - t, offsetAt(zone, t));
        const back = fromWall(zone, w);
        // In the second pass of a repeated hour fromWall picks the first pass: one offset change earlier.
        if (back !== t) assert.equal(t - back, Math.abs(offsetAt(zone, back) - offsetAt(zone, t)), `${zone} ${new Date(t).toISOString()}`);
      }
    }
  });
});
