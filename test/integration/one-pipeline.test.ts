/**
 * `run` and `once` share one pipeline and one set of observers: a manual run (the `once` gate)
 * and a scheduled run of the same failing job each reach the log, the history, the metrics and
 * the webhook alike. In-process, with the embedded store and a loopback webhook receiver; and
 * the real `once --metrics` serving the same metrics while it runs.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Logger } from '../../src/base/logger.js';
import { SqliteStore } from '../../src/coordination/embedded/sqlite-store.js';
import { parseJobsFile } from '../../src/jobsfile/parse.js';
import { attachObservers } from '../../src/observe/observers.js';
import { systemClock } from '../../src/scheduler/clock.js';
import { EventBus } from '../../src/scheduler/events.js';
import { manualLock } from '../../src/scheduler/gates.js';
import { RunPipeline } from '../../src/scheduler/pipeline.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { defineWatcher, type Watcher } from '../../src/watchers/define-watcher.js';
import { WatcherRegistry } from '../../src/watchers/registry.js';
import { sleep } from '../helpers/redis.js';

const hooks: Array<{ type: string; job: string; manual: boolean }> = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    const p = JSON.parse(body) as { type: string; run: { job: string; manual: boolean } };
    hooks.push({ type: p.type, job: p.run.job, manual: p.run.manual });
    res.end('ok');
  });
});
let port = 0;
let dir: string;
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  dir = await mkdtemp(path.join(tmpdir(), 'iw-pipeline-'));
});
after(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

const lines: Array<{ msg: string; event?: unknown; manual?: unknown }> = [];
const log: Logger = {
  debug() {},
  info: (f: unknown, m?: string) => void lines.push({ ...(typeof f === 'object' ? (f as object) : {}), msg: m ?? String(f) }),
  warn() {},
  error: (f: unknown, m?: string) => void lines.push({ ...(typeof f === 'object' ? (f as object) : {}), msg: m ?? String(f) }),
  child: () => log,
};

async function waitFor(what: string, pred: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) assert.fail(`no ${what} within ${ms} ms`);
    await sleep(20);
  }
}

test('a manual run and a scheduled run reach the same log, history, metrics and webhook', async () => {
  const boom = defineWatcher({ name: 'boom', run: async () => Promise.reject(new Error('boom')) }) as Watcher;
  const registry = new WatcherRegistry([boom]);
  const jf = parseJobsFile({ text: `NOTIFY_URL=http://127.0.0.1:${port}/hook\n* * * * * * cron boom name=b overlap=skip`, file: 'p.conf', env: {}, watchers: registry, now: Date.now() });
  const [job] = jf.jobs;
  assert.ok(job);
  const store = SqliteStore.open(':memory:');
  const events = new EventBus();
  const scheduler = new Scheduler({ jobs: jf.jobs, registry, store, clock: systemClock, log, events, instance: 'sched', maxClockSkewMs: 5_000 });
  const observers = await attachObservers({ events, scheduler, store, settings: jf.settings, jobs: jf.jobs, file: 'p.conf', instance: 'sched', log, metricsAddr: '127.0.0.1:0', heartbeat: false });
  try {
    // The manual run: `once`'s gate, the same pipeline class, the same event bus.
    const pipeline = new RunPipeline({ store, clock: systemClock, log, events, instance: 'manual', watcher: () => boom });
    const now = Date.now();
    const outcome = await pipeline.run({ job, id: now, nominal: now, manual: true, claimAt: null, startBy: null, lease: null, dryRun: false }, [manualLock(store, systemClock, 'manual')]);
    assert.equal(outcome.kind, 'ran');
    // The scheduled run.
    await scheduler.start();
    await waitFor('a scheduled run', () => hooks.some((h) => !h.manual));
    scheduler.stopClaiming();
    await scheduler.drain(5_000);

    await waitFor('both webhooks', () => hooks.length >= 2);
    assert.deepEqual(new Set(hooks.map((h) => `${h.type} ${h.job} manual=${h.manual}`)), new Set(['run-failed b manual=true', 'run-failed b manual=false']));
    const finished = lines.filter((l) => l.event === 'run-finished');
    assert.ok(finished.some((l) => l.manual === true) && finished.some((l) => l.manual === undefined), 'both logged');
    const history = await observers.fleet.history('b', 10);
    assert.deepEqual(new Set(history.map((r) => `${r.outcome} manual=${r.manual}`)), new Set(['failed manual=true', 'failed manual=false']));
    const scraped = (await observers.metrics!.scrape()).body;
    const count = Number(/iamwatch_runs_total\{job="b",outcome="failed",instance_id="sched"\} (\d+)/.exec(scraped)?.[1]);
    assert.ok(count >= 2, `both runs counted:\n${scraped.split('\n').filter((l) => l.includes('runs_total')).join('\n')}`);
  } finally {
    scheduler.abort(true);
    await observers.close();
    await store.close();
  }
});

test('iamwatch once --metrics serves the run\'s metrics while it lasts', async () => {
  const plugin = path.join(dir, 'slow.js');
  await writeFile(plugin, "export default { name: 'slow', options: {}, run: () => new Promise((r) => setTimeout(r, 3000)) };\n");
  const conf = path.join(dir, 'once.conf');
  await writeFile(conf, '@every 1h rate slow\n');
  await chmod(plugin, 0o644);
  await chmod(conf, 0o644);
  const { startCli } = await import('../helpers/cli.js');
  const { freePort } = await import('../helpers/redis.js');
  const metricsPort = await freePort();
  const { done } = startCli(['once', 'slow', '-c', conf, '--plugin', plugin, '--metrics', `127.0.0.1:${metricsPort}`, '--json']);
  let body = '';
  // The run lasts 3 s: poll until the endpoint answers (start-up takes a moment), bounded.
  for (let i = 0; i < 100 && !body.includes('iamwatch_running_jobs'); i++) {
    body = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text(), () => '');
    if (!body) await sleep(25);
  }
  assert.match(body, /iamwatch_running_jobs\{instance_id="[^"]+"\} 1/);
  const r = await done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).outcome, 'ok');
});
