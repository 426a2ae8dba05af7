/**
 * Operator experience end to end, through the built CLI as real processes: two `iamwatch run`
 * instances against a private password-protected Redis record every run once, with the right
 * instance, in `history --json` and `status --json`; the webhook receives failure events; the
 * metrics and health endpoint answer (503 once Redis is stopped); the embedded default keeps its
 * history in the state directory; the dashboard runs under a pseudo-terminal and stops on `q`.
 * No password appears in any log line, status, history record or webhook body.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, cleanEnv, runCli, startCli, type CliResult } from '../helpers/cli.js';
import { freePort, openClient, sleep, startRedisServer, uniquePrefix, type PrivateRedis } from '../helpers/redis.js';

const SECRETS = /s3cret|dbpass|hunter2/;
let dir: string;
let redis: PrivateRedis;
let hooks: Server;
let hookPort: number;
const received: Array<{ url: string; body: Record<string, unknown>; raw: string }> = [];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iw-observe-'));
  redis = await startRedisServer();
  const admin = await openClient(redis.url);
  await admin.configSet('requirepass', 's3cret');
  await admin.close();
  hooks = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      received.push({ url: req.url ?? '', raw, body: JSON.parse(raw) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  hookPort = (hooks.address() as { port: number }).port;
  // A plugin watcher whose error names a URL with a password.
  await writeFile(
    path.join(dir, 'fail-url.mjs'),
    `export default { name: 'fail-url', description: '', options: {}, async run() { throw new Error('cannot connect to mysql://root:hunter2@db.internal:3306/iam'); } };\n`,
  );
});

after(async () => {
  await redis?.stop();
  await new Promise<void>((r) => (hooks ? hooks.close(() => r()) : r()));
  await rm(dir, { recursive: true, force: true });
});

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000, context: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${context() ? `\n${context()}` : ''}`);
    await sleep(100);
  }
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

interface HistoryRecord {
  job: string;
  occurrence: string;
  instance: string;
  outcome: string;
  fence: number | null;
  error?: string;
  summary?: string;
}

test('two instances: every run recorded once with its instance; status, metrics, health, webhooks; no secrets printed', async () => {
  const prefix = uniquePrefix('iwobs');
  const ticks = path.join(dir, 'ticks.txt');
  const metricsPort = await freePort();
  const file = path.join(dir, 'fleet.conf');
  await writeFile(
    file,
    [
      `REDIS_URL=redis://:s3cret@127.0.0.1:${redis.port}`,
      'DATABASE_URL=mysql://app:dbpass@127.0.0.1:1/iam',
      `IAMWATCH_PREFIX=${prefix}`,
      `NOTIFY_URL=http://127.0.0.1:${hookPort}/hook?token=tok123`,
      'PLUGINS=./fail-url.mjs',
      `* * * * * *  cron  exec  name=tick command="echo $IAMWATCH_JOB $IAMWATCH_OCCURRENCE $IAMWATCH_INSTANCE >> ${ticks}"`,
      '* * * * * *  cron  exec  name=boom command="echo cannot reach $DATABASE_URL >&2; exit 3"',
      '*/2 * * * * *  cron  fail-url  name=flaky notify-on=always',
      '',
    ].join('\n'),
  );
  const a = startCli(['run', '-c', file, '--instance-id', 'inst-a', '--log-format', 'json', '--metrics', `127.0.0.1:${metricsPort}`], { timeoutMs: 40_000 });
  const b = startCli(['run', '-c', file, '--instance-id', 'inst-b', '--no-tui', '--log-format', 'json'], { timeoutMs: 40_000 });
  let results: CliResult[];
  try {
    await waitFor('three ticks', async () => existsSync(ticks) && (await readFile(ticks, 'utf8')).trim().split('\n').length >= 3);
    await waitFor('webhooks for boom and flaky', () => received.some((r) => (r.body.run as HistoryRecord).job === 'boom') && received.some((r) => (r.body.run as HistoryRecord).job === 'flaky'));

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /iamwatch_(runs_total\{job="boom",outcome="failed"|claims_lost_total\{job="boom"),instance_id="inst-a"\} \d+/);
    assert.match(metrics, /iamwatch_store_up\{instance_id="inst-a"\} 1/);
    assert.match(metrics, /# TYPE iamwatch_run_duration_seconds histogram/);
    assert.match(metrics, /# TYPE iamwatch_start_lateness_seconds histogram/);
    assert.match(metrics, /# TYPE iamwatch_skipped_occurrences_total counter/);
    assert.match(metrics, /iamwatch_clock_skew_seconds/);
    assert.match(metrics, /process_cpu_seconds_total/);
    const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
    assert.equal(health.status, 200, await health.clone().text());
    assert.equal(await health.text(), 'ok\n');

    const live = await runCli(['status', '-c', file, '--json']);
    assert.equal(live.code, 0, live.stderr);
    const st = JSON.parse(live.stdout) as { coordination: { kind: string; location: string; label: string }; jobs: Array<{ name: string; lastRun: HistoryRecord | null }>; instances: Array<{ instance: string; skewMs: number | null; jobs: number }> };
    assert.deepEqual(st.instances.map((i) => i.instance), ['inst-a', 'inst-b']);
    assert.ok(st.instances.every((i) => i.jobs === 3));
    assert.equal(st.coordination.kind, 'redis');
    assert.equal(st.coordination.location, `redis://:***@127.0.0.1:${redis.port}`);
    assert.deepEqual(st.jobs.map((j) => j.name), ['tick', 'boom', 'flaky']);
    assert.ok(st.jobs.find((j) => j.name === 'tick')?.lastRun, 'tick has a last run');
    assert.ok(!SECRETS.test(live.stdout), live.stdout);
  } finally {
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    results = await Promise.all([a.done, b.done]);
  }
  for (const r of results) {
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stdout); // every line is JSON
    assert.ok(lines.some((l) => l.event === 'started') && lines.every((l) => typeof l.time === 'string' && typeof l.level === 'string' && typeof l.instance === 'string'));
    assert.ok(!SECRETS.test(r.stdout + r.stderr), 'no secret in the logs');
  }
  assert.ok(jsonLines(results.map((r) => r.stdout).join('\n')).some((l) => l.event === 'run-finished' && l.job === 'tick'));
  const boomStderr = jsonLines(results.map((r) => r.stdout).join('\n')).find((l) => l.job === 'boom' && l.stream === 'stderr');
  assert.equal(boomStderr?.msg, 'cannot reach mysql://app:***@127.0.0.1:1/iam');

  const hist = await runCli(['history', '-c', file, '--json', '--limit', '10000']);
  assert.equal(hist.code, 0, hist.stderr);
  assert.ok(!SECRETS.test(hist.stdout), hist.stdout);
  const records = JSON.parse(hist.stdout) as HistoryRecord[];
  const tickLines = (await readFile(ticks, 'utf8')).trim().split('\n').map((l) => l.split(' '));
  const tickRecords = records.filter((r) => r.job === 'tick');
  assert.equal(tickRecords.length, tickLines.length, 'one record per run');
  assert.equal(new Set(tickRecords.map((r) => r.occurrence)).size, tickRecords.length, 'no occurrence twice');
  for (const [, occurrence, instance] of tickLines) {
    const rec = tickRecords.find((r) => r.occurrence === occurrence);
    assert.equal(rec?.instance, instance, `occurrence ${occurrence} recorded with the instance that ran it`);
    assert.equal(rec?.outcome, 'ok');
  }
  const flaky = records.find((r) => r.job === 'flaky');
  assert.equal(flaky?.outcome, 'failed');
  assert.equal(flaky?.error, 'cannot connect to mysql://root:***@db.internal:3306/iam');
  const failed = JSON.parse((await runCli(['history', 'boom', '-c', file, '--json', '--failed', '--limit', '2'])).stdout) as HistoryRecord[];
  assert.equal(failed.length, 2);
  assert.ok(failed.every((r) => r.job === 'boom' && r.outcome === 'failed'));

  const after = JSON.parse((await runCli(['status', '-c', file, '--json'])).stdout) as { instances: unknown[] };
  assert.deepEqual(after.instances, [], 'stopped instances leave');

  const flakyHook = received.find((r) => (r.body.run as HistoryRecord).job === 'flaky')!;
  assert.equal(flakyHook.url, '/hook?token=tok123');
  assert.equal(flakyHook.body.type, 'run-failed');
  assert.match(String(flakyHook.body.text), /flaky failed on inst-[ab].*mysql:\/\/root:\*\*\*@db\.internal/);
  assert.ok(received.every((r) => !SECRETS.test(r.raw)), 'no secret in webhook bodies');
});

test('healthz answers 503 with the reason when Redis is stopped', async () => {
  const own = await startRedisServer();
  const port = await freePort();
  const file = path.join(dir, 'health.conf');
  await writeFile(file, `REDIS_URL=${own.url}\nIAMWATCH_PREFIX=${uniquePrefix('iwh')}\n@every 1m rate exec name=idle command="true"\n`);
  const run = startCli(['run', '-c', file, '--no-tui', '--metrics', `127.0.0.1:${port}`], { timeoutMs: 30_000 });
  try {
    await waitFor('healthz 200', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status === 200);
    await own.stop();
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /^redis: /);
  } finally {
    run.child.kill('SIGTERM');
    const r = await run.done;
    await own.stop();
    assert.equal(r.code, 0, r.stderr);
  }
});

test('embedded default: history and status read the state directory of a single instance', async () => {
  const sub = await mkdtemp(path.join(dir, 'local-'));
  const file = path.join(sub, 'watchers.conf');
  await writeFile(file, '* * * * * * cron exec name=local command="echo hi"\n');
  const run = startCli(['run', '-c', file, '--instance-id', 'solo', '--log-format', 'json'], { timeoutMs: 20_000 });
  try {
    await waitFor('two local runs', async () => {
      const h = await runCli(['history', 'local', '-c', file, '--json']);
      return h.code === 0 && (JSON.parse(h.stdout) as unknown[]).length >= 2;
    });
    const st = JSON.parse((await runCli(['status', '-c', file, '--json'])).stdout) as { coordination: { kind: string; location: string }; instances: Array<{ instance: string }>; jobs: Array<{ lastRun: HistoryRecord | null }> };
    assert.equal(st.coordination.kind, 'embedded');
    assert.equal(st.coordination.location, path.join(sub, '.iamwatch'));
    assert.deepEqual(st.instances.map((i) => i.instance), ['solo']);
    assert.equal(st.jobs[0]?.lastRun?.instance, 'solo');
  } finally {
    run.child.kill('SIGTERM');
    assert.equal((await run.done).code, 0);
  }
  const records = JSON.parse((await runCli(['history', '-c', file, '--json', '--since', '1m'])).stdout) as HistoryRecord[];
  assert.ok(records.length >= 2 && records.every((r) => r.instance === 'solo' && r.outcome === 'ok' && r.fence !== null));
});

test('the dashboard runs under a pseudo-terminal and shuts down on q', async () => {
  const sub = await mkdtemp(path.join(dir, 'pty-'));
  const file = path.join(sub, 'watchers.conf');
  await writeFile(file, '* * * * * * cron exec name=pty-job command="echo tick"\n@every 1h rate exec name=hourly command="true"\n');
  const cmd = `stty cols 160 rows 30; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} run -c ${JSON.stringify(file)} --instance-id tty-1`;
  // A person's terminal, not a CI job: ink renders only the final frame when it thinks it runs in CI.
  const env = cleanEnv({ TERM: 'xterm-256color', CI: undefined, CONTINUOUS_INTEGRATION: undefined });
  for (const key of Object.keys(env)) if (key.startsWith('CI_')) delete env[key];
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  // Colours and cursor movement stripped: what the terminal shows, frame after frame.
  // eslint-disable-next-line no-control-regex
  const plain = (d: Buffer): string => d.toString().replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  child.stdout.on('data', (d: Buffer) => (screen += plain(d)));
  child.stderr.on('data', (d: Buffer) => (screen += plain(d)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    // A loaded machine (CI running beside other work) can take a while to start node under script(1).
    await waitFor(
      'a dashboard frame with a finished run',
      () => /pty-job[^\n]*running here|pty-job[^\n]*ok \d+ms/.test(screen) && screen.includes('OK/FAIL') && screen.includes('instance tty-1'),
      30_000,
      () => `screen so far (last 2000 characters):\n${screen.slice(-2000)}`,
    );
    assert.match(screen, /hourly[^\n]*rate[^\n]*@every 1h/);
    assert.ok(screen.includes('q or Ctrl-C'));
    assert.ok(!/^\{"level"/m.test(screen), 'log lines go to the dashboard, not raw to the terminal');
    child.stdin.write('q');
    assert.equal(await Promise.race([exited, sleep(10_000).then(() => 'timeout')]), 0);
    assert.match(screen, /stopped\./);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
