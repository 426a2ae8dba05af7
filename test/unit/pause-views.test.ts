/**
 * How a pause is shown, without processes: the dashboard's row state (fed from the store by
 * DashboardFeed), the status text and its watch view, `once`'s refusal text, and the
 * iamwatch_job_paused gauge read at scrape time, on the embedded store in memory.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { renderStatus } from '../../src/cli/commands/status.js';
import { SqliteStore } from '../../src/coordination/embedded/sqlite-store.js';
import { pausedRefusal } from '../../src/coordination/pause.js';
import { parseJobsFile } from '../../src/jobsfile/parse.js';
import { presentPause, type StatusReport } from '../../src/observe/fleet-report.js';
import { LogTail } from '../../src/observe/log-tail.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { RunTracker } from '../../src/observe/run-tracker.js';
import { Dashboard } from '../../src/tui/dashboard.js';
import { DashboardFeed } from '../../src/tui/feed.js';
import { pausedText } from '../../src/tui/format.js';
import { StatusView } from '../../src/tui/status-view.js';
import { defineWatcher, type Watcher } from '../../src/watchers/define-watcher.js';
import { WatcherRegistry } from '../../src/watchers/registry.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const plain = { green: (s: string) => s, red: (s: string) => s, yellow: (s: string) => s, dim: (s: string) => s, bold: (s: string) => s };
const table = (header: string[], rows: string[][]): string => [header, ...rows].map((r) => r.join(' | ')).join('\n');

test('pausedText: who (the user of user@host), until when in the job\'s zone', () => {
  assert.equal(pausedText({ by: 'alice@host1', until: Date.parse('2026-03-01T14:00:00Z') }, NOW, 'UTC'), 'paused by alice until 14:00');
  assert.equal(pausedText({ by: 'alice@host1', until: Date.parse('2026-03-01T14:00:05Z') }, NOW, 'UTC'), 'paused by alice until 14:00:05');
  assert.equal(pausedText({ by: 'alice@host1', until: Date.parse('2026-03-01T14:00:00Z') }, NOW, 'America/New_York'), 'paused by alice until 09:00');
  assert.equal(pausedText({ by: 'bob@host2', until: Date.parse('2026-03-04T08:30:00Z') }, NOW, 'UTC'), 'paused by bob until 2026-03-04 08:30');
  assert.equal(pausedText({ by: 'ops', until: null }, NOW, 'UTC'), 'paused by ops');
});

test('once\'s refusal says who paused, since when, until when, why, and how to lift it', () => {
  const text = pausedRefusal('purge', { by: 'alice@host1', at: NOW, until: NOW + 3_600_000, reason: 'db migration' });
  assert.equal(text, 'job purge is paused (by alice@host1 since 2026-03-01T12:00:00.000Z, until 2026-03-01T13:00:00.000Z, reason: db migration); not running it. `iamwatch resume purge` lifts the pause');
  assert.match(pausedRefusal('purge', { by: 'alice@host1', at: NOW, until: null, reason: null }), /until resumed, no reason given/);
});

const work = defineWatcher({ name: 'work', run: async () => {} }) as Watcher;

function jobs(names: string[]) {
  const registry = new WatcherRegistry([work]);
  const jf = parseJobsFile({ text: names.map((n) => `0 * * * * cron work name=${n}`).join('\n'), file: 'v.conf', env: {}, watchers: registry, now: NOW });
  assert.deepEqual(jf.diagnostics.filter((d) => d.severity === 'error'), []);
  return jf.jobs;
}

test('dashboard: a paused job\'s row says by whom and until when; a run in progress still shows as running', async () => {
  const store = SqliteStore.open(':memory:', () => NOW);
  const js = jobs(['purge', 'report', 'idle']);
  let runningHere = 0;
  const feed = new DashboardFeed({
    instance: 'web-1',
    file: 'v.conf',
    jobs: js,
    scheduler: { skewMs: 0, stopping: false, runningCount: 0, lastTick: NOW, states: () => js.map((job) => ({ job, next: NOW + 60_000, runningHere: job.name === 'report' ? runningHere : 0 })) },
    tracker: new RunTracker(),
    tail: new LogTail(10),
    store,
    fleet: store.fleet({ limit: 10, maxAgeMs: 60_000 }),
    redisLabel: null,
    now: () => NOW,
  });
  try {
    await store.pause(['purge', 'report'], { by: 'alice@host1', until: Date.parse('2026-03-01T14:00:00Z'), reason: 'migration' });
    await feed.refresh();
    runningHere = 1;
    const m = feed.model();
    assert.deepEqual(m.jobs.map((j) => [j.name, j.state.kind]), [['purge', 'paused'], ['report', 'running-here'], ['idle', 'idle']]);
    const { lastFrame, unmount } = render(createElement(Dashboard, { model: m, width: 160 }));
    const frame = lastFrame() ?? '';
    unmount();
    assert.match(frame, /purge .*paused by alice until 14:00/);
    assert.doesNotMatch(frame, /idle .*paused/);
    await store.resume(['purge']);
    await feed.refresh();
    assert.equal(feed.model().jobs[0]!.state.kind, 'idle', 'resumed: the row follows the store');
  } finally {
    await store.close();
  }
});

test('status: the text and the watch view show the pause; JSON carries it with ISO times', () => {
  const pause = presentPause({ by: 'alice@host1', at: NOW - 300_000, until: Date.parse('2026-03-01T14:00:00Z'), reason: 'db migration' });
  assert.deepEqual(pause, { by: 'alice@host1', at: '2026-03-01T11:55:00.000Z', until: '2026-03-01T14:00:00.000Z', reason: 'db migration' });
  const job = { name: 'purge', watcher: 'work', mode: 'cron' as const, schedule: '0 * * * *', tz: 'UTC', enabled: true, next: '2026-03-01T13:00:00+00:00', lastRun: null, running: [] };
  const report: StatusReport = {
    file: 'v.conf',
    now: new Date(NOW).toISOString(),
    coordination: { kind: 'embedded', location: '/tmp', label: 'embedded store in /tmp', prefix: null },
    jobs: [
      { ...job, paused: pause },
      { ...job, name: 'report', paused: null },
    ],
    instances: [],
    config: { drift: false, configurations: [] },
  };
  const text = renderStatus(report, plain, table);
  assert.match(text, /purge \|.*\| paused by alice@host1 5m ago until 2026-03-01T14:00:00.000Z \(db migration\) \|/);
  assert.match(text, /report \|.*\| idle \|/);
  const { lastFrame, unmount } = render(createElement(StatusView, { report, width: 160 }));
  const frame = lastFrame() ?? '';
  unmount();
  assert.match(frame, /purge .*paused by alice until 14:00/);
});

test('metrics: iamwatch_job_paused is 1 for paused jobs and 0 for the others, read at each scrape', async () => {
  const store = SqliteStore.open(':memory:');
  try {
    const metrics = await createMetrics({ store, scheduler: { skewMs: 0, stopping: false, runningCount: 0, lastTick: Date.now() }, instance: 'web-1', jobs: ['purge', 'report'] });
    await store.pause(['purge'], { by: 'alice@host1', until: null, reason: null });
    let body = (await metrics.scrape()).body;
    assert.match(body, /^iamwatch_job_paused\{job="purge",instance_id="web-1"\} 1$/m);
    assert.match(body, /^iamwatch_job_paused\{job="report",instance_id="web-1"\} 0$/m);
    await store.resume(['purge']);
    body = (await metrics.scrape()).body;
    assert.match(body, /^iamwatch_job_paused\{job="purge",instance_id="web-1"\} 0$/m);
  } finally {
    await store.close();
  }
});
