/**
 * /livez beside /healthz, through `iamwatch run --metrics` as a real process: liveness answers 200
 * while the scheduler loop turns, whatever Redis does (a private redis-server is stopped under
 * it: /healthz turns 503, /livez stays 200) and while a graceful shutdown drains (/healthz 503
 * "shutting down", /livez 200 "draining"); readiness stays /healthz.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startCli } from '../helpers/cli.js';
import { freePort, sleep, startRedisServer, uniquePrefix, type PrivateRedis } from '../helpers/redis.js';

let dir: string;
let redis: PrivateRedis | undefined;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iw-livez-'));
  await chmod(dir, 0o755);
});

after(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function get(port: number, what: string): Promise<{ status: number; body: string } | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${what}`, { signal: AbortSignal.timeout(2_000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return null;
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('Redis stopped: /healthz 503 (readiness), /livez 200 (liveness)', async () => {
  redis = await startRedisServer();
  const port = await freePort();
  const file = path.join(dir, 'redis.conf');
  await writeFile(file, `REDIS_URL=${redis.url}\nIAMWATCH_PREFIX=${uniquePrefix('iwlive')}\n@every 1m rate exec name=idle command=true\n`, { mode: 0o644 });
  const run = startCli(['run', '-c', file, '--no-tui', '--metrics', `127.0.0.1:${port}`], { timeoutMs: 40_000 });
  try {
    await waitFor('healthz 200', async () => (await get(port, '/healthz'))?.status === 200);
    assert.deepEqual(await get(port, '/livez'), { status: 200, body: 'ok\n' });

    await redis.stop();
    await waitFor('healthz 503', async () => (await get(port, '/healthz'))?.status === 503);
    assert.match((await get(port, '/healthz'))!.body, /^redis: /m);
    // Liveness keeps answering 200 for as long as Redis is away (several loop wakes).
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      assert.deepEqual(await get(port, '/livez'), { status: 200, body: 'ok\n' });
      await sleep(250);
    }
    const live = JSON.parse((await get(port, '/livez?format=json'))!.body) as { ok: boolean; detail: string; lastTickAgeMs: number };
    assert.equal(live.ok, true);
    assert.equal(live.detail, 'ok');
    assert.ok(live.lastTickAgeMs >= 0 && live.lastTickAgeMs < 15_000, String(live.lastTickAgeMs));
    assert.equal((await get(port, '/nope'))?.status, 404);
  } finally {
    run.child.kill('SIGTERM');
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
  }
});

test('a draining shutdown: /healthz 503 "shutting down", /livez 200 "draining"', async () => {
  const port = await freePort();
  const sub = await mkdtemp(path.join(dir, 'drain-'));
  await chmod(sub, 0o755);
  const file = path.join(sub, 'watchers.conf');
  await writeFile(file, '* * * * * * cron exec name=slow command="sleep 4" overlap=skip\n', { mode: 0o644 });
  const run = startCli(['run', '-c', file, '--no-tui', '--log-format', 'json', '--metrics', `127.0.0.1:${port}`], { timeoutMs: 40_000 });
  let logs = '';
  run.child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  try {
    await waitFor('a run of slow in progress', async () => /"event":"run-started"/.test(logs));
    run.child.kill('SIGTERM');
    await waitFor('healthz says shutting down', async () => /shutting down/.test((await get(port, '/healthz'))?.body ?? ''), 5_000);
    assert.equal((await get(port, '/healthz'))?.status, 503);
    assert.deepEqual(await get(port, '/livez'), { status: 200, body: 'draining\n' });
  } finally {
    if (run.child.signalCode === null && !run.child.killed) run.child.kill('SIGTERM');
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(logs, /"event":"run-finished","job":"slow".*"outcome":"ok"/, 'the drain let the run finish');
  }
});
