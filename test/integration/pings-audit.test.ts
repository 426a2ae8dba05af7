/**
 * Noticing what did not run: check-in pings to a loopback monitor (both URL forms, basic auth),
 * `iamwatch audit` finding occurrences missed while no instance was up and ones skipped by
 * overlap, the last-success metric surviving a restart, and enabled=false jobs never scheduled.
 * Real CLI processes with the embedded store (no Redis needed).
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startInstance } from '../helpers/instance.js';
import { freePort, sleep } from '../helpers/redis.js';

let dir: string;
const hits: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
const monitor = createServer((req, res) => {
  hits.push({ url: req.url ?? '', headers: req.headers });
  res.end('OK');
});
let port = 0;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iw-audit-'));
  await new Promise<void>((r) => monitor.listen(0, '127.0.0.1', r));
  port = (monitor.address() as { port: number }).port;
});
after(async () => {
  monitor.close();
  await rm(dir, { recursive: true, force: true });
});

async function conf(name: string, lines: string[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  await chmod(file, 0o644);
  return file;
}

async function waitFor(what: string, pred: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) assert.fail(`no ${what} within ${ms} ms; hits: ${JSON.stringify(hits.map((h) => h.url))}`);
    await sleep(20);
  }
}

describe('check-in pings', () => {
  test('healthchecks form: /start then the URL on success, /fail on failure; basic auth from the URL', async () => {
    const file = await conf('pings.conf', [
      `@every 1h rate exec name=good command=true ping=http://mon:s3cret@127.0.0.1:${port}/ping/good`,
      `@every 1h rate exec name=bad command="exit 2" ping=http://127.0.0.1:${port}/ping/bad/`,
      `@every 1h rate exec name=cron command=true ping=http://127.0.0.1:${port}/p/KEY ping-style=cronitor`,
    ]);
    for (const job of ['good', 'bad', 'cron']) await runCli(['once', job, '-c', file]);
    await waitFor('the pings', () => hits.length >= 6);
    assert.deepEqual(hits.map((h) => h.url), ['/ping/good/start', '/ping/good', '/ping/bad/start', '/ping/bad/fail', '/p/KEY?state=run', '/p/KEY?state=complete']);
    assert.equal(hits[0]!.headers.authorization, `Basic ${Buffer.from('mon:s3cret').toString('base64')}`);
  });

  test('a bad ping URL is a validation error at its column', async () => {
    const file = await conf('bad-ping.conf', ['@every 1h rate exec name=j command=true ping=not-a-url']);
    const r = await runCli(['validate', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad-ping\.conf:1:\d+: error: ping: not a valid URL/);
  });
});

describe('audit, last success, enabled=false', () => {
  test('occurrences missed while no instance was up are listed as not-run; overlap skips as skipped; exit 1', async () => {
    const file = await conf('audit.conf', ['* * * * * * cron exec name=tick command=true', '* * * * * * cron exec name=slow command="sleep 1.5" overlap=skip', '* * * * * * cron exec name=off command=true enabled=false']);
    const started = Date.now();
    const first = startInstance('audit-1', file);
    await first.waitFor((l) => l.event === 'run-finished' && l.job === 'tick', 15_000, 'a tick');
    await sleep(2_200);
    first.child.kill('SIGTERM');
    assert.equal((await first.done).code, 0);
    const downFrom = Date.now();
    await sleep(2_500); // the whole fleet is down: about 2 occurrences of tick are missed
    const second = startInstance('audit-2', file);
    await second.waitFor((l) => l.event === 'run-finished' && l.job === 'tick', 15_000, 'a tick after the restart');
    await sleep(1_200);
    second.child.kill('SIGTERM');
    assert.equal((await second.done).code, 0);
    await sleep(2_500); // the audit leaves the last 2 s alone (runs may still be recorded)

    const since = `${Math.ceil((Date.now() - started) / 1000)}s`;
    const r = await runCli(['audit', 'tick', 'slow', 'off', '-c', file, '--since', since, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as { ok: boolean; jobs: Array<{ job: string; ok: number; expected: number; missed: Array<{ occurrence: string; status: string; reason: string }> }> };
    assert.equal(report.ok, false);
    const tick = report.jobs.find((j) => j.job === 'tick')!;
    assert.ok(tick.ok >= 3, `tick ran ${tick.ok} times`);
    const notRun = tick.missed.filter((m) => m.status === 'not-run');
    const inGap = notRun.filter((m) => Date.parse(m.occurrence) > downFrom && Date.parse(m.occurrence) < downFrom + 2_500);
    assert.ok(inGap.length >= 2, `the occurrences of the gap are listed: ${JSON.stringify(tick.missed)}`);
    const slow = report.jobs.find((j) => j.job === 'slow')!;
    assert.ok(slow.missed.some((m) => m.status === 'skipped' && m.reason === 'overlap'), JSON.stringify(slow.missed));
    const off = report.jobs.find((j) => j.job === 'off')!;
    assert.equal(off.ok, 0, 'enabled=false never ran');

    const text = await runCli(['audit', 'tick', '-c', file, '--since', since]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /tick \(cron\): \d+ of \d+ expected ran ok, \d+ missed/);
    assert.match(text.stdout, /not-run {2}no instance claimed it/);

    const unknown = await runCli(['audit', 'nope', '-c', file]);
    assert.equal(unknown.code, 2);

    const st = JSON.parse((await runCli(['status', '-c', file, '--json'])).stdout) as { jobs: Array<{ name: string; enabled: boolean; next: string | null; nextNote?: string }> };
    const offStatus = st.jobs.find((j) => j.name === 'off')!;
    assert.deepEqual([offStatus.enabled, offStatus.next, offStatus.nextNote], [false, null, 'never: enabled=false']);
  });

  test('iamwatch_last_success_timestamp_seconds comes from the history after a restart', async () => {
    const file = await conf('last.conf', ['* * * * * * cron exec name=tick command=true']);
    const first = startInstance('last-1', file);
    await first.waitFor((l) => l.event === 'run-finished' && l.job === 'tick' && l.outcome === 'ok', 15_000, 'an ok tick');
    first.child.kill('SIGTERM');
    await first.done;
    const metricsPort = await freePort();
    const { startCli } = await import('../helpers/cli.js');
    const { child, done } = startCli(['run', '-c', file, '--log-format', 'json', '--no-tui', '--metrics', `127.0.0.1:${metricsPort}`, '--instance-id', 'last-2'], { timeoutMs: 30_000 });
    let body = '';
    for (let i = 0; i < 200 && !/iamwatch_last_success_timestamp_seconds\{job="tick"/.test(body); i++) {
      body = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text(), () => '');
      if (!body) await sleep(25);
    }
    child.kill('SIGTERM');
    await done;
    const at = Number(/iamwatch_last_success_timestamp_seconds\{job="tick",instance_id="last-2"\} ([\d.e+]+)/.exec(body)?.[1]);
    assert.ok(Number.isFinite(at) && Date.now() / 1000 - at < 30, `seeded from the history: ${at}`);
  });
});
