/**
 * The terminal views and the redaction they rely on, without processes: the dashboard and the
 * status view rendered with ink-testing-library, the log tail, redactText/redactDeep, and the
 * pino logger's redaction of every field and message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { Dashboard } from '../../src/tui/dashboard.js';
import { StatusView } from '../../src/tui/status-view.js';
import type { DashboardModel } from '../../src/tui/model.js';
import type { StatusReport } from '../../src/observe/fleet-report.js';
import { LogTail } from '../../src/observe/log-tail.js';
import { redactDeep, redactText, redactUrl } from '../../src/base/redact.js';
import { createLogger } from '../../src/observe/logger.js';
import { recordOf } from '../../src/observe/run-record.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');

function model(over: Partial<DashboardModel> = {}): DashboardModel {
  return {
    now: NOW,
    instance: 'web-1:42',
    file: '/etc/iamwatch/watchers.conf',
    // Raw secrets on purpose: the dashboard must hide them itself.
    redis: { label: 'redis://app:s3cret@redis.internal:6379', up: true },
    database: { label: 'mysql://iam:dbpass@db:3306/iam', up: false },
    skewMs: 12,
    instances: [
      { instance: 'web-1:42', lastBeat: NOW, skewMs: 12, self: true, running: 1 },
      { instance: 'web-2:77', lastBeat: NOW - 3_000, skewMs: -4, self: false, running: 1 },
    ],
    jobs: [
      { name: 'purge-audit', mode: 'cron', schedule: '0 3 * * *', tz: 'UTC', next: NOW + 4_000, state: { kind: 'idle' }, ok: 3, failed: 1, last: { outcome: 'ok', durationMs: 1500, summary: 'deleted 12 rows via mysql://u:rowpass@db/iam', instance: 'web-1:42', at: NOW - 60_000 } },
      { name: 'report', mode: 'rate', schedule: '@every 15m', tz: 'UTC', next: NOW + 60_000, state: { kind: 'running-here', since: NOW - 5_000 }, ok: 0, failed: 0 },
      { name: 'disable-users', mode: 'cron', schedule: '30 2 * * 1-5', tz: 'America/New_York', next: NOW + 90_000_000, state: { kind: 'running-elsewhere', instance: 'web-2:77', since: NOW - 1_000 }, ok: 1, failed: 0 },
      { name: 'cleansecret', mode: 'interval', schedule: '@every 1h', tz: 'UTC', next: NOW + 1_000, state: { kind: 'skipped', reason: 'overlap' }, ok: 0, failed: 2, last: { outcome: 'timeout', durationMs: 30_000, error: 'timed out after 30000 ms', instance: 'web-1:42', at: NOW } },
    ],
    shutdown: null,
    logs: [
      { time: '12:00:00', level: 'info', text: '[purge-audit] run ok in 1500 ms' },
      { time: '12:00:01', level: 'error', text: '[cleansecret] run timeout after 30000 ms' },
      { time: '12:00:02', level: 'warn', text: 'webhook https://hook:tailpass@hooks.example/x?token=tok3n failed' },
    ],
    ...over,
  };
}

test('dashboard: header, one row per job with its state, counts, last outcome and the log tail', () => {
  const { lastFrame, unmount } = render(createElement(Dashboard, { model: model(), width: 100 }));
  const frame = lastFrame() ?? '';
  unmount();
  for (const text of ['web-1:42', 'redis://app:***@redis.internal:6379', ' up', 'mysql://iam:***@db:3306/iam', 'DOWN', 'skew 12 ms', '2 live', 'web-2:77']) assert.ok(frame.includes(text), `header has ${text}:\n${frame}`);
  assert.ok(!/s3cret|dbpass|rowpass|tailpass|tok3n/.test(frame), `no password in the dashboard:\n${frame}`);
  // One line per job at any width; at 160 columns every column is there.
  const wide = render(createElement(Dashboard, { model: model(), width: 160 }));
  const lines = (wide.lastFrame() ?? '').split('\n');
  wide.unmount();
  const row = (name: string): string => lines.find((l) => l.startsWith(`${name} `)) ?? '';
  assert.match(row('purge-audit'), /cron.*0 3 \* \* \*.*UTC.*12:00:04 in 4s.*idle.*3\/1.*ok 1\.5s: deleted 12 rows/);
  assert.match(row('report'), /rate.*@every 15m.*running here 5s.*0\/0.*never/);
  assert.match(row('disable-users'), /America\/New_York.*2026-03-02 08:00 in 1d1h.*running on web-2:77/);
  assert.match(row('cleansecret'), /interval.*skipped \(overlap\).*0\/2.*timeout 30s: timed out/);
  assert.ok(frame.includes('run ok in 1500 ms') && frame.includes('run timeout after 30000 ms'), 'log tail shown');
  assert.ok(frame.includes('q or Ctrl-C'), 'keys shown');
});

test('dashboard: the drain and the stop are shown', () => {
  const draining = render(createElement(Dashboard, { model: model({ shutdown: { phase: 'draining', running: 2, deadline: NOW + 180_000, signal: 'SIGINT' } }) }));
  assert.match(draining.lastFrame() ?? '', /SIGINT: draining, no new runs; waiting for 2 running jobs \(up to 3m00s\)/);
  draining.rerender(createElement(Dashboard, { model: model({ shutdown: { phase: 'stopped', running: 0, signal: 'SIGINT' } }) }));
  assert.match(draining.lastFrame() ?? '', /stopped\./);
  draining.unmount();
});

test('status view: jobs, holders and instances', () => {
  const report: StatusReport = {
    file: 'w.conf',
    now: new Date(NOW).toISOString(),
    coordination: { kind: 'redis', location: 'redis://:***@r:6379', label: 'Redis redis://:***@r:6379 (prefix iamwatch)', prefix: 'iamwatch' },
    jobs: [
      { name: 'tick', watcher: 'exec', mode: 'cron', schedule: '* * * * * *', tz: 'UTC', enabled: true, next: '2026-03-01T12:00:01+00:00', lastRun: null, paused: null, running: [{ instance: 'b:2', occurrence: '2026-03-01T12:00:00.000Z', startedAt: new Date(NOW).toISOString(), expiresAt: null, manual: false }] },
    ],
    instances: [{ instance: 'b:2', host: 'b', pid: 2, version: '0.1.0', state: 'draining', startedAt: new Date(NOW).toISOString(), lastBeat: new Date(NOW).toISOString(), ageMs: 2000, skewMs: 3, jobs: 1, configHash: 'abc123abc123', running: [] }],
    config: { drift: false, configurations: [{ hash: 'abc123abc123', instances: ['b:2'] }] },
  };
  const { lastFrame, unmount } = render(createElement(StatusView, { report, width: 160 }));
  const frame = lastFrame() ?? '';
  unmount();
  assert.match(frame, /tick.*cron.*running on b:2.*never/);
  assert.match(frame, /b:2 draining beat 2s ago, skew 3 ms/);
});

test('log tail keeps the last lines, one line each', () => {
  const tail = new LogTail(3);
  for (let i = 0; i < 5; i++) tail.write(`${JSON.stringify({ level: 'info', time: '2026-03-01T12:00:00Z', job: 'j', msg: `line ${i}\nsecond` })}\n`);
  tail.write('{"level":"warn","msg":"par');
  tail.write('tial"}\n');
  assert.deepEqual(tail.lines(10).map((l) => l.text), ['[j] line 3 second', '[j] line 4 second', 'partial']);
  assert.equal(tail.total, 6);
});

test('redaction: URLs in text, query tokens, nested values and errors', () => {
  assert.equal(redactText('dial mysql://root:hunter2@db:3306/x failed'), 'dial mysql://root:***@db:3306/x failed');
  assert.equal(redactText('GET https://h/p?access_token=abc&x=1'), 'GET https://h/p?access_token=***&x=1');
  assert.equal(redactUrl('rediss://u:p%40ss@h:6380/0'), 'rediss://u:***@h:6380/0');
  const deep = redactDeep({ a: ['redis://:pw@h'], b: { c: new Error('at mysql://u:pw@h/db') }, n: 1 });
  assert.deepEqual(deep.a, ['redis://:***@h']);
  assert.equal(deep.b.c.message, 'at mysql://u:***@h/db');
  assert.equal(deep.n, 1);
});

test('logger: JSON lines parse and carry no password, whoever logged it', async () => {
  const dest = new PassThrough();
  let text = '';
  dest.on('data', (d: Buffer) => (text += d.toString()));
  const log = await createLogger({ format: 'json', instance: 'i-1', destination: dest });
  log.child({ job: 'j' }).warn({ stream: 'stderr', url: 'redis://:s3cret@h:6379' }, 'connect mysql://root:hunter2@db/x refused');
  log.error({ err: new Error('boom https://u:tok@hook') }, 'failed');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.instance, 'i-1');
  assert.equal(lines[0]!.job, 'j');
  assert.equal(lines[0]!.level, 'warn');
  assert.equal(typeof lines[0]!.time, 'string');
  assert.ok(!/s3cret|hunter2|tok@/.test(text), text);
  assert.ok(text.includes('redis://:***@h:6379') && text.includes('mysql://root:***@db/x'));
});

test('run records are redacted and carry the outcome', () => {
  const r = recordOf(
    { event: 'run-finished', job: 'j', mode: 'cron', occurrence: NOW, nominal: NOW, instance: 'a', fence: 7, attempts: 1, outcome: 'failed', startedAt: NOW + 5, endedAt: NOW + 25, durationMs: 20, latenessMs: 5, error: 'no route to mysql://root:hunter2@db', manual: false },
    NOW + 30,
  );
  assert.equal(r?.error, 'no route to mysql://root:***@db');
  assert.equal(r?.occurrence, new Date(NOW).toISOString());
  assert.equal(r?.fence, 7);
  assert.equal(r?.at, NOW + 25);
});
