/** The /livez decision: alive unless the scheduler loop should be waking and isn't. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_TICK_AGE_MS } from '../../src/observe/health.js';
import { checkLiveness } from '../../src/observe/liveness.js';

test('a loop that woke recently is alive; one silent for longer than MAX_TICK_AGE_MS is not', () => {
  const now = 1_000_000;
  assert.deepEqual(checkLiveness({ lastTick: now - 4_000, stopping: false }, now), { ok: true, detail: 'ok', lastTickAgeMs: 4_000 });
  assert.deepEqual(checkLiveness({ lastTick: now - MAX_TICK_AGE_MS, stopping: false }, now).ok, true);
  const stalled = checkLiveness({ lastTick: now - MAX_TICK_AGE_MS - 1_000, stopping: false }, now);
  assert.equal(stalled.ok, false);
  assert.match(stalled.detail, /stalled: last tick 16 s ago/);
});

test('starting (no tick yet) and draining (the loop stopped on purpose) are alive', () => {
  assert.deepEqual(checkLiveness({ lastTick: 0, stopping: false }, 5), { ok: true, detail: 'starting', lastTickAgeMs: null });
  assert.deepEqual(checkLiveness({ lastTick: 1, stopping: true }, 10 * MAX_TICK_AGE_MS), { ok: true, detail: 'draining', lastTickAgeMs: 10 * MAX_TICK_AGE_MS - 1 });
});
