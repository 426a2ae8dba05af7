/**
 * The embedded default (no REDIS_URL) through the built CLI as real processes: every process that
 * uses a jobs file on this machine shares its state database in the state directory, so
 * `iamwatch once` is refused (exit 3, naming the holder) while `iamwatch run` runs that job, and two
 * `run` processes on one file run each occurrence once, interval runs one at a time, and write one
 * shared history.
 */
import assert from 'node:assert/strict';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { readRuns, recordCommand, startInstance, type Instance } from '../helpers/instance.js';
import { sleep } from '../helpers/redis.js';

let dir: string;
const started: Instance[] = [];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'iwtest-embedded-'));
});

after(async () => {
  for (const i of started) if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/** A jobs file without REDIS_URL in its own folder (so its own state directory). */
async function writeConfig(name: string, out: string, jobLines: string[]): Promise<string> {
  const folder = await mkdtemp(path.join(dir, `${name}-`));
  const file = path.join(folder, `${name}.conf`);
  await writeFile(file, [`OUT=${out}`, 'SHUTDOWN_TIMEOUT=10s', ...jobLines, ''].join('\n'));
  return file;
}

interface HistoryRecord {
  job: string;
  instance: string;
  outcome: string;
  manual: boolean;
  fence: number | null;
}

async function stop(instances: Instance[]): Promise<void> {
  for (const i of instances) {
    assert.equal(i.child.exitCode, null, `${i.id} is still running`);
    i.child.kill('SIGTERM');
  }
  for (const [n, r] of (await Promise.all(instances.map((i) => i.done))).entries()) {
    assert.equal(r.code, 0, `${instances[n]!.id}: exit ${r.code}\n${r.stderr}`);
  }
}

test('once is refused (exit 3, naming the holder) while run runs the job in another process; both write one history', async () => {
  const out = path.join(dir, 'once-runs.log');
  const config = await writeConfig('once', out, [`@every 1h  interval  exec  name=busy lock-ttl=3s ${recordCommand(4)}`, `@every 1h  interval  exec  name=quick ${recordCommand(0)}`]);
  const holder = startInstance('holder-7', config);
  started.push(holder);
  await holder.waitFor((l) => l.event === 'run-started' && l.job === 'busy', 15_000, 'busy to start');
  await access(path.join(path.dirname(config), '.iamwatch', 'once.conf.sqlite'));

  const refused = await runCli(['once', 'busy', '-c', config, '--log-format', 'json', '--instance-id', 'cli-1']);
  assert.equal(refused.code, 3, `exit ${refused.code}\n${refused.stderr}`);
  assert.match(refused.stderr, /job busy is running on holder-7 since \d{4}-\d\d-\d\dT/);
  assert.equal(refused.stdout, '');
  assert.equal((await readRuns(out)).filter((r) => r.instance === 'cli-1').length, 0, 'it did not run');

  // A job that is not running: once takes its lock, runs it, and records it where run records.
  await holder.waitFor((l) => l.event === 'run-finished' && l.job === 'quick', 10_000, 'quick to finish');
  const ran = await runCli(['once', 'quick', '-c', config, '--json', '--log-format', 'json', '--instance-id', 'cli-2']);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal((JSON.parse(ran.stdout) as { locked: boolean }).locked, true);
  const history = JSON.parse((await runCli(['history', 'quick', '-c', config, '--json'])).stdout) as HistoryRecord[];
  assert.deepEqual(history.map((r) => [r.instance, r.manual]).sort(), [['cli-2', true], ['holder-7', false]]);
  await stop([holder]);
});

test('two run processes on one jobs file: each occurrence runs once, interval runs one at a time, one shared history', async () => {
  const out = path.join(dir, 'pair-runs.log');
  const config = await writeConfig('pair', out, [`* * * * * *  cron  exec  name=tick ${recordCommand(0)}`, `@every 300ms  interval  exec  name=iv ${recordCommand(0.1)}`]);
  const pair = ['a', 'b'].map((id) => startInstance(id, config));
  started.push(...pair);
  await Promise.all(pair.map((i) => i.waitFor((l) => l.event === 'started', 15_000, 'started line')));
  await sleep(5_000);
  await stop(pair);

  const runs = await readRuns(out);
  const dump = runs.map((r) => `${r.job} ${r.occurrence} ${r.instance} ${r.start} ${r.end} fence=${r.fence}`).join('\n');
  const ticks = runs.filter((r) => r.job === 'tick');
  assert.ok(ticks.length >= 3, `only ${ticks.length} tick runs in ~5 s\n${dump}`);
  const seen = new Map<string, number>();
  for (const r of ticks) seen.set(r.occurrence, (seen.get(r.occurrence) ?? 0) + 1);
  const duplicates = [...seen].filter(([, n]) => n > 1);
  assert.deepEqual(duplicates, [], `occurrences run more than once\n${dump}`);

  const iv = runs.filter((r) => r.job === 'iv').sort((x, y) => x.start - y.start);
  assert.ok(iv.length >= 3, `only ${iv.length} interval runs\n${dump}`);
  for (let n = 1; n < iv.length; n++) {
    assert.ok(iv[n]!.start >= iv[n - 1]!.end, `interval runs overlap\n${dump}`);
    assert.ok(iv[n]!.fence > iv[n - 1]!.fence, `fences follow the runs\n${dump}`);
  }

  // Both processes wrote to one history: one record per run, whichever instance ran it.
  const history = JSON.parse((await runCli(['history', 'tick', '-c', config, '--json', '--limit', '1000'])).stdout) as HistoryRecord[];
  const ran = history.filter((r) => r.outcome === 'ok');
  assert.equal(ran.length, ticks.length, `history ${JSON.stringify(history)}\n${dump}`);
  const byValue = (x: number, y: number): number => x - y;
  assert.deepEqual(ran.map((r) => r.fence ?? 0).sort(byValue), ticks.map((r) => r.fence).sort(byValue));
});

test('a state directory that cannot be created: exit 4, saying what to do', async () => {
  const config = await writeConfig('unwritable', path.join(dir, 'unwritable-runs.log'), [`@every 1h  interval  exec  name=quick ${recordCommand(0)}`]);
  const blocker = path.join(dir, 'a-file');
  await writeFile(blocker, '');
  const r = await runCli(['once', 'quick', '-c', config], { env: { IAMWATCH_STATE_DIR: path.join(blocker, 'state') } });
  assert.equal(r.code, 4, `exit ${r.code}\n${r.stderr}`);
  assert.match(r.stderr, /cannot open the state database .*a-file\/state\/unwritable\.conf\.sqlite: .*set IAMWATCH_STATE_DIR to a writable directory/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
