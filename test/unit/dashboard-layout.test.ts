/**
 * The terminal views' layout without a terminal: display widths and cuts, columns that shrink or
 * drop by priority, header segments, the row budget, the dashboard and status frames at 80, 100,
 * 150 and 200 columns (long job names, many jobs, tiny heights: no line wider than the terminal,
 * no frame taller, the header first), and the fleet counts the dashboard feed labels.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SqliteStore } from '../../src/coordination/embedded/sqlite-store.js';
import type { RunRecord } from '../../src/coordination/records.js';
import { parseJobsFile } from '../../src/jobsfile/parse.js';
import type { StatusReport } from '../../src/observe/fleet-report.js';
import { LogTail } from '../../src/observe/log-tail.js';
import { RunTracker } from '../../src/observe/run-tracker.js';
import { dashboardFrame } from '../../src/tui/dashboard.js';
import { DashboardFeed } from '../../src/tui/feed.js';
import { FleetTally } from '../../src/tui/fleet-tally.js';
import { fitCell, fitColumns, fitRows, fitSegments, rowWidth, scrollStart, type ColumnSpec, type Part } from '../../src/tui/layout.js';
import type { DashboardModel, JobRow } from '../../src/tui/model.js';
import { statusFrame } from '../../src/tui/status-view.js';
import { displayWidth, oneLine, truncateEnd, truncateMiddle } from '../../src/tui/text.js';
import { defineWatcher, type Watcher } from '../../src/watchers/define-watcher.js';
import { WatcherRegistry } from '../../src/watchers/registry.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const text = (parts: ReadonlyArray<Part>): string => parts.map((p) => p.text).join('');
const LONG = 'nightly-export-of-the-customer-accounts-table-to-the-data-warehouse-in-eu-west-1';

describe('text', () => {
  test('display width: ASCII, wide characters, combining marks', () => {
    const cases: Array<[string, number]> = [['', 0], ['abc', 3], ['日本', 4], ['e\u0301', 1], ['🙂x', 3], ['…', 1]];
    for (const [s, w] of cases) assert.equal(displayWidth(s), w, JSON.stringify(s));
  });

  test('cuts keep the width and mark the cut', () => {
    assert.equal(truncateEnd('abcdef', 4), 'abc…');
    assert.equal(truncateEnd('abc', 4), 'abc');
    assert.equal(truncateEnd('日本語です', 5), '日本…');
    assert.equal(truncateMiddle('backup-db-eu-west-1', 11), 'backu…est-1');
    for (let w = 0; w < 30; w++) {
      assert.ok(displayWidth(truncateMiddle(LONG, w)) <= w, `middle ${w}`);
      assert.ok(displayWidth(truncateEnd(`${LONG}日本`, w)) <= w, `end ${w}`);
    }
  });

  test('free text becomes one line without escapes or control characters', () => {
    assert.equal(oneLine('a\nb\r\nc\td'), 'a b c d');
    assert.equal(oneLine('\u001b[31mred\u001b[0m \u001b]0;title\u0007x\u0007'), 'red x ');
  });
});

type K = 'a' | 'b' | 'c' | 'd';
const SPECS: Array<ColumnSpec<K>> = [
  { key: 'a', header: ['A'], priority: 0, min: 8, max: 40, soft: 20, cut: 'middle' },
  { key: 'b', header: ['B'], priority: 3, min: 6, max: 10 },
  { key: 'c', header: ['C'], priority: 1, min: 6, max: 20 },
  { key: 'd', header: ['D'], priority: 2, min: 6, max: 50, soft: 20 },
];
const ROWS = [{ a: [LONG], b: ['bbbbbbbbbb'], c: ['cccccccccccccccccccc'], d: ['d'.repeat(50)] }];

describe('columns', () => {
  const cases: Array<{ width: number; keys: K[] }> = [
    { width: 10, keys: ['a'] },
    { width: 30, keys: ['a', 'c'] },
    { width: 50, keys: ['a', 'c', 'd'] },
    { width: 80, keys: ['a', 'b', 'c', 'd'] },
    { width: 200, keys: ['a', 'b', 'c', 'd'] },
  ];
  for (const c of cases)
    test(`${c.width} columns: ${c.keys.join(', ')}`, () => {
      const cols = fitColumns(SPECS, ROWS, c.width);
      assert.deepEqual(
        cols.map((x) => x.key),
        c.keys,
      );
      assert.ok(rowWidth(cols) <= c.width, `${rowWidth(cols)} > ${c.width}`);
      for (const x of cols) assert.ok(x.width >= Math.min(SPECS.find((s) => s.key === x.key)!.min, c.width));
    });

  test('the most important column stays, cut, even narrower than its minimum', () => {
    assert.deepEqual(
      fitColumns(SPECS, ROWS, 5).map((x) => [x.key, x.width]),
      [['a', 5]],
    );
  });

  test('a cell shows the first variant that fits, else the last one cut', () => {
    assert.equal(fitCell(['12:00:04 in 4s', 'in 4s'], 20), '12:00:04 in 4s');
    assert.equal(fitCell(['12:00:04 in 4s', 'in 4s'], 8), 'in 4s');
    assert.equal(fitCell(['12:00:04 in 4s', 'in 1d12h'], 5), 'in 1…');
  });
});

describe('header segments and rows', () => {
  const segs = [
    { priority: 0, parts: [{ text: 'fleet: 2 live instances' }], short: [{ text: 'fleet: 2 live' }] },
    { priority: 1, parts: [{ text: 'runs since 11:00: 3 ok' }], short: [{ text: '3 ok' }] },
    { priority: 2, parts: [{ text: '(web-2 beat 2s ago)' }] },
  ];
  const cases: Array<[number, string]> = [
    [100, 'fleet: 2 live instances  runs since 11:00: 3 ok  (web-2 beat 2s ago)'],
    [60, 'fleet: 2 live instances  runs since 11:00: 3 ok'],
    [40, 'fleet: 2 live instances  3 ok'],
    [20, 'fleet: 2 live'],
    [14, 'fleet: 2 live'],
    [8, 'fleet: …'],
  ];
  for (const [width, want] of cases) test(`a header line in ${width} columns`, () => assert.equal(text(fitSegments(segs, width)), want));

  test('the row budget: header and footer first, the table, then the tail; never taller than the height', () => {
    const cases: Array<{ height: number; items: number; tail: number; want: Partial<ReturnType<typeof fitRows>> }> = [
      { height: 23, items: 30, tail: 40, want: { header: 3, items: 13, more: true, tail: 3, footer: 1 } },
      { height: 39, items: 30, tail: 40, want: { header: 3, items: 30, more: false, tail: 3 } },
      { height: 49, items: 30, tail: 40, want: { items: 30, tail: 13 } },
      { height: 23, items: 2, tail: 1, want: { items: 2, tail: 1 } },
      { height: 7, items: 30, tail: 40, want: { header: 3, tableHeader: true, items: 1, more: true, tail: 0, footer: 1 } },
      { height: 5, items: 30, tail: 40, want: { header: 3, tableHeader: false, items: 0, more: true, footer: 1 } },
      { height: 2, items: 30, tail: 40, want: { header: 2, items: 0, more: false, footer: 0 } },
      { height: 0, items: 30, tail: 40, want: { header: 0, items: 0, footer: 0 } },
    ];
    for (const c of cases) {
      const b = fitRows({ height: c.height, header: 3, footer: 1, items: c.items, tail: c.tail });
      for (const [k, v] of Object.entries(c.want)) assert.equal(b[k as keyof typeof b], v, `height ${c.height}: ${k}`);
      const lines = b.header + (b.tableHeader ? 1 : 0) + b.items + (b.more ? 1 : 0) + (b.tailTitle ? 1 : 0) + b.tail + b.footer;
      assert.ok(lines <= c.height, `height ${c.height}: ${lines} lines`);
    }
    assert.equal(scrollStart(30, 13, 25), 17);
    assert.equal(scrollStart(30, 13, -3), 0);
  });
});

function row(i: number, name = `job-${i}`): JobRow {
  return {
    name,
    mode: (['cron', 'rate', 'interval'] as const)[i % 3]!,
    schedule: i % 2 ? '*/5 * * * * *' : '@every 15m',
    tz: i % 4 ? 'UTC' : 'America/Argentina/Buenos_Aires',
    next: NOW + i * 7_000,
    state: i === 2 ? { kind: 'running-here', since: NOW - 3_000 } : i === 5 ? { kind: 'paused', by: 'alice@h', until: NOW + 3_600_000, reason: null } : i === 7 ? { kind: 'running-elsewhere', instance: 'web-2:77', since: NOW } : { kind: 'idle' },
    ok: i * 3,
    failed: i % 5 === 0 ? 1 : 0,
    last: i % 3 ? { outcome: i % 5 ? 'ok' : 'failed', durationMs: 1_200, summary: 'processed 120 rows\nand mailed \u001b[31mthe team\u001b[0m', instance: i % 2 ? 'web-2:77' : 'web-1:42', at: NOW - 1_000, latenessMs: 12 } : undefined,
  };
}

function model(jobs: JobRow[], logs = 40): DashboardModel {
  return {
    now: NOW,
    instance: 'web-1:42',
    file: '/etc/iamwatch/watchers.conf',
    redis: { label: 'redis://app:s3cret@redis.internal:6379', up: true },
    database: { label: 'mysql://iam:dbpass@db:3306/iam', up: false },
    skewMs: 3,
    instances: [
      { instance: 'web-1:42', lastBeat: NOW, skewMs: 3, self: true, running: 1 },
      { instance: 'web-2:77', lastBeat: NOW - 2_000, skewMs: 1, self: false, running: 1 },
    ],
    jobs,
    counts: { scope: 'fleet', since: NOW - 600_000 },
    paused: 1,
    shutdown: null,
    logs: Array.from({ length: logs }, (_, i) => ({ time: '12:00:00', level: i % 9 ? 'info' : 'warn', text: `[job-${i}] run ok in 12 ms, a message long enough to need cutting on any terminal of 80 to 150 columns wide, and then some more` })),
  };
}

const MANY = Array.from({ length: 30 }, (_, i) => row(i, i % 7 === 3 ? `${LONG}-${i}` : `job-${i}`));

describe('the dashboard frame', () => {
  const sizes: Array<[number, number]> = [
    [80, 24],
    [100, 30],
    [150, 40],
    [200, 50],
    [80, 8],
    [80, 4],
    [40, 24],
  ];
  for (const [width, height] of sizes)
    test(`${width}x${height}, 30 jobs with long names: no line wider, no frame taller, the header first`, () => {
      const { lines, shown } = dashboardFrame({ model: model(MANY), width, height });
      const plain = lines.map(text);
      for (const l of plain) assert.ok(displayWidth(l) <= width, `${displayWidth(l)} > ${width}: ${l}`);
      assert.ok(plain.length <= height - 1, `${plain.length} lines in ${height} rows`);
      assert.match(plain[0]!, /^iamwatch instance web-1:42/);
      assert.ok(!plain.some((l) => /s3cret|dbpass/.test(l) || l.includes('\u001b')), 'redacted, no escapes');
      if (height >= 8) {
        assert.match(plain.join('\n'), /^JOB +\S/m);
        assert.ok(plain.some((l) => l.startsWith('q or Ctrl-C')), 'footer');
      }
      if (shown < 30 && height > 4) assert.ok(plain.some((l) => l.startsWith(`+${30 - shown} more jobs`)), plain.join('\n'));
      if (height >= 24) assert.equal(plain.length, height - 1, 'the log tail takes the rows left');
    });

  test('columns drop by priority as the terminal narrows; all are shown at 200', () => {
    const headerAt = (width: number): string => text(dashboardFrame({ model: model(MANY), width, height: 60 }).lines[3]!);
    assert.match(headerAt(80), /^JOB +NEXT +STATE +OK\/FAIL +LAST/);
    assert.doesNotMatch(headerAt(80), /MODE|SCHEDULE|ZONE|LATE/);
    assert.match(headerAt(150), /^JOB +MODE +SCHEDULE +NEXT +STATE +OK\/FAIL +LATE +LAST RUN/);
    assert.match(headerAt(200), /^JOB +MODE +SCHEDULE +ZONE +NEXT +STATE +FLEET OK\/FAIL +LATE +LAST RUN \(FLEET\)/);
  });

  test('counts say what they cover: the fleet, or this instance', () => {
    const fleet = dashboardFrame({ model: model(MANY), width: 150, height: 40 }).lines.map(text);
    assert.match(fleet[2]!, /^fleet: 2 live instances, 2 running, 1 paused {2}runs since \d\d:\d\d: 1305 ok, 6 failed/);
    const here = dashboardFrame({ model: { ...model(MANY), counts: { scope: 'this instance', since: NOW } }, width: 150, height: 40 }).lines.map(text);
    assert.match(here[0]!, /this instance: 30 jobs, 1 running, skew 3 ms {2}runs since \d\d:\d\d: 1305 ok, 6 failed/);
    assert.doesNotMatch(here[2]!, /runs/);
    assert.doesNotMatch(here[3]!, /FLEET/);
  });

  test('a long job name keeps both ends; a run elsewhere says where', () => {
    const plain = dashboardFrame({ model: model(MANY), width: 150, height: 40 }).lines.map(text);
    const long = plain.find((l) => l.startsWith('nightly-'))!;
    assert.match(long, /^nightly-export-of-\S*…\S*-eu-west-1-3 /);
    assert.match(plain.find((l) => l.startsWith('job-1 '))!, / ok 1\.2s: processed 120 rows/);
    const wide = dashboardFrame({ model: model(MANY), width: 260, height: 40 }).lines.map(text);
    assert.match(wide.find((l) => l.startsWith('job-1 '))!, / ok 1\.2s on web-2:77: processed 120 rows and mailed the team$/);
  });

  test('scrolled: the rows from the offset, and the more line says how many are above and below', () => {
    const { lines, start, shown } = dashboardFrame({ model: model(MANY), width: 80, height: 24, offset: 10 });
    assert.equal(start, 10);
    const plain = lines.map(text);
    assert.equal(shown, 13);
    assert.match(plain[4]!, /^nightly-\S+-10 /);
    assert.match(plain[4 + 12]!, /^job-22 /);
    assert.equal(plain[4 + 13], '+17 more jobs: 10 above, 7 below (2 running, 1 paused, 2 failing)');
  });

  test('few jobs: one line each, and the log gets the rest', () => {
    const { lines } = dashboardFrame({ model: model(MANY.slice(0, 3)), width: 80, height: 24 });
    const plain = lines.map(text);
    assert.equal(plain.length, 23);
    assert.ok(!plain.some((l) => l.includes('more job')));
    assert.equal(plain.filter((l) => /^12:00:00 (info|warn)/.test(l)).length, 23 - 3 - 1 - 3 - 1 - 1);
  });
});

describe('the status frame', () => {
  const report: StatusReport = {
    file: 'watchers.conf',
    now: new Date(NOW).toISOString(),
    coordination: { kind: 'redis', location: 'redis://:***@r:6379', label: 'Redis redis://:***@r:6379 (prefix iamwatch)', prefix: 'iamwatch' },
    jobs: MANY.map((j, i) => ({
      name: j.name,
      watcher: 'exec',
      mode: j.mode,
      schedule: j.schedule,
      tz: j.tz,
      enabled: true,
      next: new Date(NOW + i * 7_000).toISOString(),
      lastRun: null,
      paused: null,
      running: i === 4 ? [{ instance: 'b:2', occurrence: new Date(NOW).toISOString(), startedAt: new Date(NOW).toISOString(), expiresAt: null, manual: false }] : [],
    })),
    instances: Array.from({ length: 6 }, (_, i) => ({ instance: `host-${i}:1${i}`, host: `host-${i}`, pid: 10 + i, version: '0.1.0', state: 'running' as const, startedAt: new Date(NOW).toISOString(), lastBeat: new Date(NOW).toISOString(), ageMs: 1_000, skewMs: 2, jobs: 30, configHash: i < 5 ? 'a1b2c3d4e5' : 'ffff0000aa', running: [] })),
    config: { drift: true, configurations: [{ hash: 'a1b2c3d4e5', instances: ['host-0:10', 'host-1:11', 'host-2:12', 'host-3:13', 'host-4:14'] }, { hash: 'ffff0000aa', instances: ['host-5:15'] }] },
  };
  for (const [width, height] of [[80, 24], [150, 40], [200, 60], [80, 6]] as Array<[number, number]>)
    test(`${width}x${height}: no line wider, no frame taller, the header first`, () => {
      const plain = statusFrame({ report, width, height }).lines.map(text);
      for (const l of plain) assert.ok(displayWidth(l) <= width, `${displayWidth(l)} > ${width}: ${l}`);
      assert.ok(plain.length <= height - 1, `${plain.length} lines`);
      assert.match(plain[0]!, /^iamwatch status/);
      assert.match(plain[1]!, /^fleet: 6 live instances, 1 running, 0 paused/);
      if (height > 6) assert.match(plain[2]!, /^config drift: 2 configurations/);
    });
});

const rec = (over: Partial<RunRecord>): RunRecord => ({
  job: 'j',
  mode: 'cron',
  occurrence: '2026-03-01T12:00:00.000Z',
  nominal: '2026-03-01T12:00:00.000Z',
  instance: 'a',
  fence: 1,
  outcome: 'ok',
  startedAt: null,
  endedAt: null,
  durationMs: 10,
  latenessMs: 1,
  attempts: 1,
  manual: false,
  at: NOW,
  ...over,
});

describe('fleet counts', () => {
  test('each record once, from every instance, since the start; skips not counted; gaps noticed', () => {
    const t = new FleetTally(NOW);
    const r1 = rec({ instance: 'a', fence: 1, at: NOW + 1_000 });
    const r2 = rec({ instance: 'b', fence: 2, at: NOW + 2_000, outcome: 'failed' });
    const old = rec({ instance: 'b', fence: 0, at: NOW - 60_000 });
    assert.equal(t.add('j', [r2, r1, old], 20), true);
    assert.deepEqual({ ok: t.get('j')!.ok, failed: t.get('j')!.failed, last: t.get('j')!.last?.instance }, { ok: 1, failed: 1, last: 'b' });
    const skip = rec({ instance: 'c', fence: null, outcome: 'skipped', at: NOW + 3_000 });
    assert.equal(t.add('j', [skip, r2, r1], 3), true, 'overlaps the previous read');
    assert.deepEqual([t.get('j')!.ok, t.get('j')!.failed, t.get('j')!.last?.instance], [1, 1, 'b']);
    const later = [rec({ fence: 9, at: NOW + 9_000 }), rec({ fence: 8, at: NOW + 8_000 })];
    assert.equal(t.add('j', later, 2), false, 'all new and as many as asked: maybe a gap');
    assert.equal(t.get('j')!.ok, 3);
    const mine = rec({ instance: 'a', fence: 10, at: NOW + 10_000, outcome: 'timeout' });
    t.note(mine);
    assert.deepEqual([t.get('j')!.failed, t.get('j')!.last], [2, mine], 'a run seen here counts at once');
    t.add('j', [{ ...mine }, ...later], 20);
    assert.equal(t.get('j')!.failed, 2, 'and once, when the history has it too');
  });

  test('the feed labels its counts: this instance until the history is read, then the fleet', async () => {
    const store = SqliteStore.open(':memory:', () => NOW);
    const work = defineWatcher({ name: 'work', run: async () => {} }) as Watcher;
    const jf = parseJobsFile({ text: '0 * * * * cron work name=purge\n0 * * * * cron work name=report\n', file: 'v.conf', env: {}, watchers: new WatcherRegistry([work]), now: NOW });
    const fleet = store.fleet({ limit: 100, maxAgeMs: 86_400_000 });
    const feed = new DashboardFeed({
      instance: 'web-1',
      file: 'v.conf',
      jobs: jf.jobs,
      scheduler: { skewMs: 0, stopping: false, runningCount: 0, lastTick: NOW, states: () => jf.jobs.map((job) => ({ job, next: NOW + 60_000, runningHere: 0 })) },
      tracker: new RunTracker(),
      tail: new LogTail(10),
      store,
      fleet,
      redisLabel: null,
      now: () => NOW,
    });
    try {
      assert.equal(feed.model().counts?.scope, 'this instance');
      await fleet.append(rec({ job: 'purge', instance: 'web-2', fence: 1, at: NOW + 1 }));
      await fleet.append(rec({ job: 'purge', instance: 'web-1', fence: 2, at: NOW + 2, outcome: 'failed', error: 'boom' }));
      await fleet.append(rec({ job: 'report', instance: 'web-2', fence: 3, at: NOW + 3 }));
      await feed.refresh();
      const m = feed.model();
      assert.equal(m.counts?.scope, 'fleet');
      assert.deepEqual(
        m.jobs.map((j) => [j.name, j.ok, j.failed, j.last?.instance]),
        [
          ['purge', 1, 1, 'web-1'],
          ['report', 1, 0, 'web-2'],
        ],
      );
      await feed.refresh();
      assert.deepEqual(
        feed.model().jobs.map((j) => [j.ok, j.failed]),
        [
          [1, 1],
          [1, 0],
        ],
        'read again: counted once',
      );
    } finally {
      await store.close();
    }
  });
});
