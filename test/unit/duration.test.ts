import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DurationSyntaxError, formatDuration, parseDuration } from '../../src/schedule/duration.js';

describe('parseDuration', () => {
  const ok: Array<[string, number]> = [
    ['1ms', 1],
    ['500ms', 500],
    ['1s', 1000],
    ['90s', 90_000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['7d', 7 * 86_400_000],
    ['1h30m', 5_400_000],
    ['1d2h3m4s5ms', 86_400_000 + 2 * 3_600_000 + 3 * 60_000 + 4000 + 5],
    ['30m1h', 5_400_000], // any order, summed
    ['1m1m', 120_000],
    ['1.5h', 5_400_000],
    ['0.5s', 500],
    ['1.5ms', 2], // rounded to whole ms
    ['0s1ms', 1],
    ['0010s', 10_000],
    ['1m30s', 90_000],
  ];
  for (const [text, ms] of ok) {
    test(`${text} = ${ms} ms`, () => assert.equal(parseDuration(text), ms));
  }

  const bad: Array<[text: string, index: number, message: RegExp]> = [
    ['', 0, /^empty duration/],
    ['1', 0, /^invalid duration "1": expected a number followed by ms, s, m, h or d at "1"/],
    ['h', 0, /at "h"/],
    ['1x', 0, /at "1x"/],
    ['1h30', 2, /at "30"/],
    ['1h 30m', 2, /at " 30m"/],
    ['1H', 0, /at "1H"/],
    ['-1s', 0, /at "-1s"/],
    ['.5s', 0, /at ".5s"/],
    ['1e3s', 0, /at "1e3s"/],
    ['1w', 0, /at "1w"/],
    ['1.s', 0, /at "1.s"/],
    ['1d1y', 2, /at "1y"/],
    ['0s', 0, /^duration "0s" must be greater than zero$/],
    ['0ms0d', 0, /must be greater than zero/],
    ['0.4ms', 0, /must be greater than zero/],
    ['99999999999999999d', 0, /^duration "99999999999999999d" is too large$/],
  ];
  for (const [text, index, message] of bad) {
    test(`${JSON.stringify(text)} is an error at ${index}`, () => {
      assert.throws(() => parseDuration(text), (e: unknown) => {
        assert.ok(e instanceof DurationSyntaxError);
        assert.match(e.message, message);
        assert.equal(e.index, index);
        return true;
      });
    });
  }

  test('a failed parse does not disturb the next one (sticky regex state)', () => {
    assert.throws(() => parseDuration('1h30'));
    assert.equal(parseDuration('5m'), 300_000);
  });
});

describe('formatDuration', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [1, '1ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1s500ms'],
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [86_400_000, '1d'],
    [90_061_001, '1d1h1m1s1ms'],
    [-1500, '-1s500ms'],
  ];
  for (const [ms, text] of cases) {
    test(`${ms} -> ${text}`, () => assert.equal(formatDuration(ms), text));
  }
  test('round trip', () => {
    for (const ms of [1, 59_999, 3_600_000, 86_400_001, 123_456_789]) assert.equal(parseDuration(formatDuration(ms)), ms);
  });
});
