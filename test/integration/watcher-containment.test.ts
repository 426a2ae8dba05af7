/**
 * Misbehaving watchers are contained: a run that never settles ends at its timeout, anything a
 * watcher throws (non-Error values, throwing toString, rejections from its timers, after the run)
 * is recorded without taking the process down, shutdown with hung runs honours SHUTDOWN_TIMEOUT
 * and releases every lock before Redis closes, a plugin that never finishes loading is an error,
 * and an error outside any watcher exits 70 after releasing locks. SIGHUP reloads `run`, never stops it.
 * Real `iamwatch` processes against the shared Redis (own key prefix).
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, type CliResult } from '../helpers/cli.js';
import { parseLogLines, startInstance } from '../helpers/instance.js';
import { deletePrefix, openClient, SHARED_REDIS_URL, uniquePrefix, type TestRedisClient } from '../helpers/redis.js';

let dir: string;
let redis: TestRedisClient;
const prefix = uniquePrefix('iwcontain');

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iw-contain-'));
  redis = await openClient();
  await writeFile(path.join(dir, 'plugin.js'), PLUGIN);
  await chmod(path.join(dir, 'plugin.js'), 0o644);
});
after(async () => {
  await deletePrefix(redis, prefix);
  await redis.close();
  await rm(dir, { recursive: true, force: true });
});

/** Watchers that misbehave in every way this file tests. */
const PLUGIN = `
const w = (name, run) => ({ name, options: {}, run });
export default [
  w('hang', () => new Promise(() => {})),
  w('deaf', (ctx) => new Promise((resolve) => { ctx.signal.addEventListener('abort', () => {}); setTimeout(resolve, 60_000).unref(); })),
  w('throw-null-proto', async () => { throw Object.create(null); }),
  w('throw-bad-tostring', async () => { throw { toString() { throw new Error('no'); }, get message() { throw new Error('no'); } }; }),
  w('throw-null', async () => { throw null; }),
  w('late-reject', async () => { setTimeout(() => { Promise.reject(new Error('late rejection from a timer')); }, 20); return { summary: 'returned' }; }),
  w('late-throw', async () => { setTimeout(() => { throw 'a string thrown in a timer'; }, 20); return { summary: 'returned' }; }),
  w('quick', async () => ({ summary: 'quick ok' })),
];
`;

async function conf(name: string, lines: string[], settings: Record<string, string> = {}): Promise<string> {
  const file = path.join(dir, name);
  const head = Object.entries({ REDIS_URL: SHARED_REDIS_URL, IAMWATCH_PREFIX: prefix, PLUGINS: './plugin.js', ...settings }).map(([k, v]) => `${k}=${v}`);
  await writeFile(file, `${[...head, ...lines].join('\n')}\n`);
  await chmod(file, 0o644);
  return file;
}

const noStack = (r: CliResult): void => assert.ok(!/\n\s+at .+:\d+:\d+/.test(r.stderr), `no stack trace expected:\n${r.stderr}`);

async function runningLocks(job: string): Promise<number> {
  return redis.zCard(`${prefix}:{${job}}:running`);
}

describe('once', () => {
  test('a watcher that never settles ends at timeout=, recorded timeout, lock released', async () => {
    const file = await conf('hang.conf', ['@every 1h rate hang timeout=1500ms']);
    const started = Date.now();
    const r = await runCli(['once', 'hang', '-c', file, '--json', '--log-format', 'json'], { timeoutMs: 15_000 });
    const took = Date.now() - started;
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as { outcome: string; durationMs: number };
    assert.equal(report.outcome, 'timeout');
    // The deadline plus the default abort grace (1 s), with room for process start-up.
    assert.ok(report.durationMs >= 1_500 && report.durationMs < 4_000, `${report.durationMs} ms`);
    assert.ok(took < 8_000, `${took} ms`);
    assert.equal(await runningLocks('hang'), 0, 'the running lock was released');
    // The next `once` is not blocked by a leftover lock.
    const again = await runCli(['once', 'hang', '-c', file, '--json'], { timeoutMs: 15_000 });
    assert.equal(JSON.parse(again.stdout).outcome, 'timeout');
  });

  for (const [watcher, message] of [
    ['throw-null-proto', /thrown value that cannot be printed|\{\}/],
    ['throw-bad-tostring', /thrown value that cannot be printed/],
    ['throw-null', /^null$/],
  ] as const) {
    test(`${watcher}: a failed run with a printable error, exit 1, no stack, lock released`, async () => {
      const file = await conf(`${watcher}.conf`, [`@every 1h rate ${watcher}`]);
      const r = await runCli(['once', watcher, '-c', file, '--json', '--log-format', 'json'], { timeoutMs: 15_000 });
      assert.equal(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout) as { outcome: string; error: string };
      assert.equal(report.outcome, 'failed');
      assert.match(report.error, message);
      noStack(r);
      assert.equal(await runningLocks(watcher), 0);
    });
  }

  test('a plugin whose top-level await never settles: a clear error within PLUGIN_TIMEOUT', async () => {
    const hung = path.join(dir, 'hung-plugin.js');
    await writeFile(hung, 'await new Promise(() => {});\nexport default [];\n');
    await chmod(hung, 0o644);
    const file = await conf('hung-plugin.conf', ['@every 1h rate quick'], { PLUGIN_TIMEOUT: '1s', PLUGINS: './hung-plugin.js,./plugin.js' });
    const r = await runCli(['validate', '-c', file], { timeoutMs: 15_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /plugin .*hung-plugin\.js: did not finish loading within 1s/);
    noStack(r);
  });
});

describe('run', () => {
  test('throws of every kind, late rejections and timer throws are recorded; the process goes on', async () => {
    const file = await conf('run-throws.conf', [
      '@every 1s rate throw-null-proto',
      '@every 1s rate throw-bad-tostring',
      '@every 1s rate late-reject',
      '@every 1s rate late-throw',
      '@every 1s rate quick',
    ]);
    const inst = startInstance('contain-1', file);
    try {
      for (const job of ['throw-null-proto', 'throw-bad-tostring']) {
        await inst.waitFor((l) => l.event === 'run-finished' && l.job === job && l.outcome === 'failed', 10_000, `a failed ${job} run`);
      }
      await inst.waitFor((l) => l.event === 'watcher-error' && l.job === 'late-reject' && /late rejection/.test(String(l.err)), 10_000, 'the late rejection, recorded');
      await inst.waitFor((l) => l.event === 'watcher-error' && l.job === 'late-throw' && /a string thrown/.test(String(l.err)), 10_000, 'the timer throw, recorded');
      const quickRuns = (): number => inst.lines.filter((l) => l.event === 'run-finished' && l.job === 'quick' && l.outcome === 'ok').length;
      const before = quickRuns();
      await inst.waitFor(() => quickRuns() >= before + 2, 10_000, 'quick runs going on after the errors');
      assert.equal(inst.child.exitCode, null, 'still running');
    } finally {
      inst.child.kill('SIGTERM');
    }
    const r = await inst.done;
    assert.equal(r.code, 0, r.stderr);
    noStack(r);
  });

  test('shutdown with runs that ignore their signal: SHUTDOWN_TIMEOUT, then abandoned, locks released before Redis closes', async () => {
    const file = await conf('hung-shutdown.conf', ['@every 1s rate deaf name=deaf-1 overlap=skip', '@every 1s rate hang name=hang-1 overlap=skip'], { SHUTDOWN_TIMEOUT: '1s' });
    const inst = startInstance('contain-2', file);
    await inst.waitFor((l) => l.event === 'run-started' && l.job === 'deaf-1', 10_000, 'deaf-1 started');
    await inst.waitFor((l) => l.event === 'run-started' && l.job === 'hang-1', 10_000, 'hang-1 started');
    assert.equal(await runningLocks('deaf-1'), 1);
    const signalled = Date.now();
    inst.child.kill('SIGTERM');
    const r = await inst.done;
    const took = Date.now() - signalled;
    assert.equal(r.code, 0, r.stderr);
    // 1 s of drain, 1 s of abort grace, the releases: well under the old 15 s extra wait.
    assert.ok(took < 5_000, `shutdown took ${took} ms`);
    const aborted = inst.lines.filter((l) => l.event === 'run-finished' && l.outcome === 'aborted').map((l) => l.job).sort();
    assert.deepEqual(aborted, ['deaf-1', 'hang-1']);
    assert.equal(await runningLocks('deaf-1'), 0, 'deaf-1 lock released');
    assert.equal(await runningLocks('hang-1'), 0, 'hang-1 lock released');
    const stopped = inst.lines.findIndex((l) => l.event === 'stopped');
    const finished = inst.lines.findIndex((l) => l.event === 'run-finished' && l.job === 'hang-1');
    assert.ok(finished >= 0 && finished < stopped, 'runs were ended before the connections closed');
  });

  test('a second signal abandons hung runs at once and exits 143, locks released', async () => {
    const file = await conf('second-signal.conf', ['@every 1s rate hang name=hang-2 overlap=skip'], { SHUTDOWN_TIMEOUT: '1m' });
    const inst = startInstance('contain-3', file);
    await inst.waitFor((l) => l.event === 'run-started' && l.job === 'hang-2', 10_000, 'hang-2 started');
    inst.child.kill('SIGTERM');
    await inst.waitFor((l) => l.event === 'shutdown', 5_000, 'the drain');
    const second = Date.now();
    inst.child.kill('SIGTERM');
    const r = await inst.done;
    assert.equal(r.code, 143, r.stderr);
    assert.ok(Date.now() - second < 4_000);
    assert.equal(await runningLocks('hang-2'), 0);
  });

  test('SIGHUP reloads `run`, never stops it, however often it comes', async () => {
    const file = await conf('hup.conf', ['@every 1h rate quick name=hup-quick']);
    const inst = startInstance('contain-4', file);
    await inst.waitFor((l) => l.event === 'started', 10_000, 'start');
    for (let n = 0; n < 3; n++) inst.child.kill('SIGHUP');
    await inst.waitFor((l) => l.event === 'reload-unchanged' && l.cause === 'SIGHUP', 10_000, 'a reload');
    assert.equal(inst.child.exitCode, null, 'still running');
    assert.equal(inst.lines.some((l) => l.event === 'shutdown'), false);
    inst.child.kill('SIGTERM');
    const r = await inst.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(inst.lines.find((l) => l.event === 'shutdown')?.signal, 'SIGTERM');
  });

  test('an error outside every watcher is an internal error: locks released first, exit 70 with the stack', async () => {
    // The module schedules a rejection when it is loaded: that code runs in no watcher's scope.
    const buggy = path.join(dir, 'stray.js');
    await writeFile(buggy, "setTimeout(() => { Promise.reject(new Error('stray rejection outside any run')); }, 3000);\nexport default [];\n");
    await chmod(buggy, 0o644);
    const file = await conf('stray.conf', ['@every 1s rate hang name=hang-3 overlap=skip'], { PLUGINS: './plugin.js,./stray.js' });
    const inst = startInstance('contain-5', file);
    await inst.waitFor((l) => l.event === 'run-started' && l.job === 'hang-3', 10_000, 'hang-3 started');
    const r = await inst.done;
    assert.equal(r.code, 70, r.stderr);
    assert.match(r.stderr, /internal error; please report it/);
    assert.match(r.stderr, /stray rejection outside any run\n\s+at /);
    assert.equal(await runningLocks('hang-3'), 0, 'the lock was released before exiting');
    assert.ok(parseLogLines(r.stdout).some((l) => l.event === 'internal-error'));
  });
});
