/** When iamwatch colours a stream: NO_COLOR, FORCE_COLOR, a terminal, TERM=dumb. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { colorLevel, useColor } from '../../src/cli/output.js';

const tty = { isTTY: true };
const pipe = { isTTY: false };

test('a terminal gets colour, a pipe none, TERM=dumb none', () => {
  assert.equal(colorLevel(tty, {}), 3);
  assert.equal(colorLevel(pipe, {}), 0);
  assert.equal(colorLevel({}, {}), 0);
  assert.equal(colorLevel(tty, { TERM: 'dumb' }), 0);
});

test('NO_COLOR (any non-empty value) wins over everything; empty means unset', () => {
  assert.equal(colorLevel(tty, { NO_COLOR: '1' }), 0);
  assert.equal(colorLevel(tty, { NO_COLOR: 'yes', FORCE_COLOR: '3' }), 0);
  assert.equal(colorLevel(tty, { NO_COLOR: '' }), 3);
  assert.equal(useColor(tty, { NO_COLOR: '0' }), false, 'NO_COLOR=0 is still set');
});

test('FORCE_COLOR forces a level, even into a pipe; 0 and false turn colour off on a terminal', () => {
  const cases: Array<[string, number]> = [['1', 1], ['2', 2], ['3', 3], ['9', 3], ['', 1], ['true', 1], ['yes', 1], ['0', 0], ['false', 0]];
  for (const [value, level] of cases) assert.equal(colorLevel(pipe, { FORCE_COLOR: value }), level, `FORCE_COLOR=${value}`);
  assert.equal(colorLevel(tty, { FORCE_COLOR: '0' }), 0);
  assert.equal(useColor(pipe, { FORCE_COLOR: '1' }), true);
});
