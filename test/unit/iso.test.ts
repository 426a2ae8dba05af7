import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatInstant, parseTimeInput, resolveTimeInput } from '../../src/schedule/iso.js';

describe('formatInstant', () => {
  const cases: Array<[t: number, zone: string, iso: string]> = [
    [Date.UTC(2021, 2, 14, 7, 0), 'America/New_York', '2021-03-14T03:00:00-04:00'],
    [Date.UTC(2021, 2, 14, 6, 59, 59), 'America/New_York', '2021-03-14T01:59:59-05:00'],
    [Date.UTC(2021, 10, 7, 5, 30), 'America/New_York', '2021-11-07T01:30:00-04:00'],
    [Date.UTC(2021, 10, 7, 6, 30), 'America/New_York', '2021-11-07T01:30:00-05:00'],
    [Date.UTC(2021, 0, 1), 'UTC', '2021-01-01T00:00:00+00:00'],
    [Date.UTC(2021, 0, 1, 0, 0, 0, 5), 'UTC', '2021-01-01T00:00:00.005+00:00'],
    [Date.UTC(2021, 0, 1, 0, 0, 0, 120), 'UTC', '2021-01-01T00:00:00.120+00:00'],
    [Date.UTC(2021, 5, 1, 12), 'Asia/Kolkata', '2021-06-01T17:30:00+05:30'],
    [Date.UTC(2021, 5, 1, 12), 'Asia/Kathmandu', '2021-06-01T17:45:00+05:45'],
    [Date.UTC(2021, 5, 1, 12), 'America/St_Johns', '2021-06-01T09:30:00-02:30'],
    [Date.UTC(2021, 5, 1, 12), 'Pacific/Kiritimati', '2021-06-02T02:00:00+14:00'],
    [Date.UTC(2021, 0, 1, 12), 'Australia/Sydney', '2021-01-01T23:00:00+11:00'],
    [Date.UTC(2021, 11, 31, 23, 30), 'Europe/London', '2021-12-31T23:30:00+00:00'],
    [Date.UTC(2021, 11, 31, 23, 30), 'Europe/Berlin', '2022-01-01T00:30:00+01:00'],
  ];
  for (const [t, zone, iso] of cases) {
    test(`${new Date(t).toISOString()} in ${zone}`, () => {
      assert.equal(formatInstant(t, zone), iso);
      assert.equal(Date.parse(iso), t, 'the string names the same instant');
    });
  }
});

describe('parseTimeInput', () => {
  const instants: Array<[text: string, iso: string]> = [
    ['2021-03-14T07:00:00Z', '2021-03-14T07:00:00.000Z'],
    ['2021-03-14T07:00Z', '2021-03-14T07:00:00.000Z'],
    ['2021-03-14t07:00z', '2021-03-14T07:00:00.000Z'],
    ['2021-03-14 07:00Z', '2021-03-14T07:00:00.000Z'],
    ['2021-03-14T03:00-04:00', '2021-03-14T07:00:00.000Z'],
    ['2021-03-14T03:00-0400', '2021-03-14T07:00:00.000Z'],
    ['2021-03-14T03:00-04', '2021-03-14T07:00:00.000Z'],
    ['2021-03-14T12:30+05:30', '2021-03-14T07:00:00.000Z'],
    ['2021-03-14T07:00:00.5Z', '2021-03-14T07:00:00.500Z'],
    ['2021-03-14T07:00:00.123456Z', '2021-03-14T07:00:00.123Z'],
    ['2021-03-14Z', '2021-03-14T00:00:00.000Z'],
    ['  2021-03-14T07:00Z  ', '2021-03-14T07:00:00.000Z'],
    ['2024-02-29T00:00Z', '2024-02-29T00:00:00.000Z'],
  ];
  for (const [text, iso] of instants) {
    test(`${JSON.stringify(text)} is an instant`, () => {
      const r = parseTimeInput(text);
      assert.ok(r && r.kind === 'instant');
      assert.equal(new Date(r.t).toISOString(), iso);
      assert.equal(resolveTimeInput(r, 'America/New_York'), r.t, 'the zone does not matter for an instant');
    });
  }

  const walls: Array<[text: string, wall: string]> = [
    ['2021-03-14T02:30', '2021-03-14T02:30:00.000Z'],
    ['2021-03-14T02:30:15', '2021-03-14T02:30:15.000Z'],
    ['2021-03-14', '2021-03-14T00:00:00.000Z'],
    ['2021-03-14 23:59:59.999', '2021-03-14T23:59:59.999Z'],
  ];
  for (const [text, wall] of walls) {
    test(`${JSON.stringify(text)} is a wall time`, () => {
      const r = parseTimeInput(text);
      assert.ok(r && r.kind === 'wall');
      assert.equal(new Date(r.wall).toISOString(), wall);
    });
  }

  const bad = ['', 'now', 'tomorrow', '2021-3-14', '2021-03-14T7:00', '2021-13-01', '2021-00-10', '2021-02-29', '2021-04-31', '2021-03-00', '2021-03-14T24:00', '2021-03-14T23:60', '2021-03-14T23:59:60', '2021-03-14T07:00+5', '2021-03-14T07:00 PST', '1615705200000', '2021-03-14T07'];
  for (const text of bad) {
    test(`${JSON.stringify(text)} is rejected`, () => assert.equal(parseTimeInput(text), null));
  }
});

describe('resolveTimeInput: wall times in a zone', () => {
  const cases: Array<[text: string, zone: string, iso: string]> = [
    ['2021-06-01T12:00', 'UTC', '2021-06-01T12:00:00.000Z'],
    ['2021-06-01T12:00', 'America/New_York', '2021-06-01T16:00:00.000Z'],
    ['2021-01-01T12:00', 'America/New_York', '2021-01-01T17:00:00.000Z'],
    ['2021-06-01T12:00', 'Asia/Kolkata', '2021-06-01T06:30:00.000Z'],
    // Skipped (spring forward): the first instant after the jump.
    ['2021-03-14T02:30', 'America/New_York', '2021-03-14T07:00:00.000Z'],
    ['2021-03-28T01:30', 'Europe/London', '2021-03-28T01:00:00.000Z'],
    ['2021-10-03T02:30', 'Australia/Sydney', '2021-10-02T16:00:00.000Z'],
    // Repeated (fall back): the earlier instant.
    ['2021-11-07T01:30', 'America/New_York', '2021-11-07T05:30:00.000Z'],
    ['2021-10-31T01:30', 'Europe/London', '2021-10-31T00:30:00.000Z'],
    ['2021-04-04T02:30', 'Australia/Sydney', '2021-04-03T15:30:00.000Z'],
  ];
  for (const [text, zone, iso] of cases) {
    test(`${text} in ${zone}`, () => {
      const r = parseTimeInput(text);
      assert.ok(r);
      assert.equal(new Date(resolveTimeInput(r, zone)).toISOString(), iso);
    });
  }
});
